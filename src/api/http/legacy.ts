// The replaced system's HTTP trigger (compatibility.md "HTTP interface"):
//   GET /clicktocall.html?initiator=…&destination=…[&anchor=true|false][&mode=…]
// answered with a short HTML page in its words, plus the page at / and /index.html. Errors
// keep its texts but answer 400 (or the handler's 403/503) instead of 200.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { normalizePeerAddress } from '../../config/cidr.js';
import { CALL_MODES } from '../../call/translate.js';
import { escapeHtml, sendHtml } from './html.js';
import type { CallMode, LegacyCallHandler, LegacyCallRequest } from './types.js';

export const CLICKTOCALL_PATH = '/clicktocall.html';
export const INDEX_PATH = '/index.html';
export const MISSING_PARAMETERS_TEXT = 'Missing initiator or destination URL parameters.';

export interface LegacyRoutesOptions {
  readonly handler: LegacyCallHandler;
  /** `onRequest` hook guarding /clicktocall.html (createAuthHook) when HttpAuth is on. */
  readonly authenticate?: (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;
  /** Serve the placeholder page at / and /index.html [true]; false once the web UI serves them. */
  readonly page?: boolean;
}

/** The query of `/clicktocall.html`, checked. */
export type LegacyQuery =
  | {
      readonly ok: true;
      readonly initiator: string;
      readonly destination: string;
      readonly anchor?: boolean;
      readonly mode?: CallMode;
    }
  | { readonly ok: false; readonly text: string; readonly initiator: string; readonly destination: string; readonly anchor?: boolean };

/**
 * Reads the parameters from the request-target's query. Like the replaced system: `+` and
 * `%XX` decoded, empty values ignored, the last non-empty value of a repeated name wins.
 */
export function parseLegacyQuery(requestTarget: string): LegacyQuery {
  const q = requestTarget.indexOf('?');
  const values = new Map<string, string>();
  if (q >= 0) {
    const hash = requestTarget.indexOf('#', q);
    const query = requestTarget.slice(q + 1, hash < 0 ? undefined : hash);
    for (const [name, value] of new URLSearchParams(query)) {
      if (name !== '' && value !== '') values.set(name, value);
    }
  }
  const initiator = values.get('initiator') ?? '';
  const destination = values.get('destination') ?? '';
  const anchorText = values.get('anchor');
  const modeText = values.get('mode');
  const anchor = anchorText === undefined ? undefined : parseBoolean(anchorText);
  const echo = { initiator, destination, ...(anchor === undefined ? {} : { anchor }) };
  if (initiator.trim() === '' || destination.trim() === '') return { ok: false, text: MISSING_PARAMETERS_TEXT, ...echo };
  if (anchorText !== undefined && anchor === undefined) {
    return { ok: false, text: `Invalid anchor parameter "${anchorText}": use true or false.`, ...echo };
  }
  let mode: CallMode | undefined;
  if (modeText !== undefined) {
    mode = CALL_MODES.find((m) => m === modeText.toLowerCase());
    if (mode === undefined) {
      return { ok: false, text: `Invalid mode parameter "${modeText}": use ${CALL_MODES.join(', ')}.`, ...echo };
    }
  }
  return { ok: true, ...echo, ...(mode === undefined ? {} : { mode }) };
}

function parseBoolean(text: string): boolean | undefined {
  const lower = text.toLowerCase();
  if (lower === 'true') return true;
  if (lower === 'false') return false;
  return undefined;
}

/** The replaced system's confirmation line. */
export function initiatingText(
  translatedInitiator: string,
  initiator: string,
  translatedDestination: string,
  destination: string,
  anchored: boolean,
): string {
  return (
    `Initiating ClickToCall from ${translatedInitiator}(${initiator}) to ` +
    `${translatedDestination}(${destination}) (${anchored ? 'anchored' : 'unanchored'})...`
  );
}

function clickToCallPage(query: { initiator: string; destination: string; anchor?: boolean }, message: string): string {
  // The replaced system first echoes the request, then one line of outcome.
  const echo =
    `initiator=${query.initiator}, destination=${query.destination}` + (query.anchor === true ? ' (anchored)' : '');
  return (
    '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>ClickToCall Server</title>\n</head>\n<body>\n' +
    `<p><em>ClickToCall:</em> ${escapeHtml(echo)}</p>\n<p>${escapeHtml(message)}</p>\n</body>\n</html>\n`
  );
}

const INDEX_PAGE = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Click-to-call</title>
</head>
<body>
<main>
<h1>Click-to-call</h1>
<form method="get" action="${CLICKTOCALL_PATH}">
<p><label for="initiator">Initiator (who is called first)</label><br>
<input id="initiator" name="initiator" type="text" required autocomplete="off"></p>
<p><label for="destination">Destination</label><br>
<input id="destination" name="destination" type="text" required autocomplete="off"></p>
<p><input id="anchor" name="anchor" type="checkbox" value="true">
<label for="anchor">Anchor the call (stay in the signalling path)</label></p>
<p><button type="submit">Call</button></p>
</form>
</main>
</body>
</html>
`;

/**
 * The legacy routes as a Fastify plugin. It does not encapsulate (skip-override), so it shares
 * the server's error handler; the auth hook is per route, so it guards only /clicktocall.html.
 */
export const legacyRoutes = Object.assign(
  async function legacyRoutes(app: FastifyInstance, options: LegacyRoutesOptions): Promise<void> {
    const onRequest = options.authenticate === undefined ? [] : [options.authenticate];

    app.route({
      method: 'GET',
      url: CLICKTOCALL_PATH,
      exposeHeadRoute: false,
      onRequest,
      handler: (request, reply) => {
        const query = parseLegacyQuery(request.raw.url ?? '');
        if (!query.ok) return sendHtml(reply, 400, clickToCallPage(query, query.text));
        const call: LegacyCallRequest = {
          initiator: query.initiator,
          destination: query.destination,
          ...(query.anchor === undefined ? {} : { anchor: query.anchor }),
          ...(query.mode === undefined ? {} : { mode: query.mode }),
          client: {
            address: normalizePeerAddress(request.raw.socket?.remoteAddress ?? ''),
            port: request.raw.socket?.remotePort ?? 0,
          },
          via: 'http',
          receivedAt: performance.now() - reply.elapsedTime,
        };
        // A throw here reaches the server's error handler: 500, counted as an internal error.
        const result = options.handler.submit(call);
        if (!result.ok) return sendHtml(reply, result.status, clickToCallPage(query, result.text));
        const text = initiatingText(
          result.translatedInitiator,
          query.initiator,
          result.translatedDestination,
          query.destination,
          result.mode === 'anchored',
        );
        return sendHtml(reply, 200, clickToCallPage(query, text));
      },
    });

    // HEAD checks credentials and parameters but never places a call.
    app.route({
      method: 'HEAD',
      url: CLICKTOCALL_PATH,
      onRequest,
      handler: (request, reply) => {
        const query = parseLegacyQuery(request.raw.url ?? '');
        return sendHtml(reply, query.ok ? 200 : 400, clickToCallPage(query, query.ok ? '' : query.text));
      },
    });

    if (options.page ?? true) {
      for (const url of ['/', INDEX_PATH]) {
        app.get(url, (_request, reply) => sendHtml(reply, 200, INDEX_PAGE));
      }
    }
  },
  {
    [Symbol.for('skip-override')]: true,
    [Symbol.for('fastify.display-name')]: 'clicktocall-legacy',
  },
);
