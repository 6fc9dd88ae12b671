/**
 * The web page (issue 5): `/` and `/index.html`, `/app.js`, `/style.css` from the folder
 * `src/api/http/page/` — plain files, no build step. tsc does not copy them to `dist/`, so the
 * folder is looked for next to this module first (`src/…` when run through tsx, or `dist/…` when
 * a build step copied it) and then at `../../../src/api/http/page/` from this module, which from
 * `dist/api/http/page.js` is the source tree of the same checkout (or package, when `files`
 * lists `src/api/http/page`).
 *
 * The files are read once, when the plugin is registered: a missing file stops the HTTP server
 * from starting with the folders it looked in, rather than serving a broken page.
 * Every answer has `Cache-Control: no-cache` (an ETag makes the revalidation cheap) and a strict
 * CSP: scripts and styles from this origin only, no inline script, fetch/SSE to this origin only.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsync } from 'fastify';

/** The page's Content-Security-Policy: nothing inline, nothing from elsewhere. */
export const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  // `data:` only for the empty favicon link (no request for /favicon.ico).
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** URL path → file in the page folder, and its content type. */
export const PAGE_ROUTES: Readonly<Record<string, { file: string; type: string }>> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/index.html': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
};

export interface PageOptions {
  /** The folder holding index.html, app.js and style.css [found by pageDirectory()]. */
  dir?: string;
}

/** Where the page's files are looked for, in order (see the file comment). */
export function pageDirectoryCandidates(moduleUrl: string = import.meta.url): string[] {
  return [
    fileURLToPath(new URL('./page/', moduleUrl)),
    fileURLToPath(new URL('../../../src/api/http/page/', moduleUrl)),
  ];
}

/** The first candidate folder that holds index.html, or undefined. */
export function pageDirectory(moduleUrl: string = import.meta.url): string | undefined {
  return pageDirectoryCandidates(moduleUrl).find((dir) => existsSync(`${dir}index.html`));
}

interface LoadedFile {
  body: Buffer;
  type: string;
  etag: string;
}

async function loadFiles(dir: string): Promise<Map<string, LoadedFile>> {
  const byFile = new Map<string, LoadedFile>();
  const byPath = new Map<string, LoadedFile>();
  for (const [path, { file, type }] of Object.entries(PAGE_ROUTES)) {
    let loaded = byFile.get(file);
    if (loaded === undefined) {
      const body = await readFile(`${dir.endsWith('/') ? dir : `${dir}/`}${file}`);
      const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
      loaded = { body, type, etag };
      byFile.set(file, loaded);
    }
    byPath.set(path, loaded);
  }
  return byPath;
}

/** A Fastify plugin serving the page; register it with `legacy.page: false` (legacy.ts). */
export function pagePlugin(options: PageOptions = {}): FastifyPluginAsync {
  const plugin: FastifyPluginAsync = async (app) => {
    const dir = options.dir ?? pageDirectory();
    if (dir === undefined) {
      throw new Error(`web page files not found: looked for index.html in ${pageDirectoryCandidates().join(' and ')}`);
    }
    const files = await loadFiles(dir);
    for (const [path, file] of files) {
      app.get(path, (request, reply) => {
        reply
          .header('cache-control', 'no-cache')
          .header('etag', file.etag)
          .header('content-security-policy', PAGE_CSP)
          .header('x-content-type-options', 'nosniff')
          .header('referrer-policy', 'no-referrer');
        // RFC 9110 §13.1.2: a matching If-None-Match on a GET/HEAD is answered 304.
        const inm = request.headers['if-none-match'];
        if (typeof inm === 'string' && inm.split(',').some((tag) => tag.trim().replace(/^W\//, '') === file.etag)) {
          return reply.code(304).send();
        }
        return reply.type(file.type).send(file.body);
      });
    }
  };
  // Not encapsulated: the routes share the server's 404/405 handling, as the ops routes do.
  return Object.assign(plugin, { [Symbol.for('skip-override')]: true, [Symbol.for('fastify.display-name')]: 'clicktocall-page' });
}
