/**
 * The one error the message layer raises. `reason` is fit for a 400 reason phrase (it names the
 * defect); `status` is the response a UAS should send (400 unless an RFC names another, e.g. 505
 * for an unsupported version); `answerable` says whether the message carried enough (Via, From,
 * To, Call-ID, CSeq) for that response to be built and sent back (RFC 3261 §8.2.6.1).
 */
export class SipParseError extends Error {
  readonly reason: string;
  readonly status: number;
  answerable: boolean;
  /** The message as far as it was parsed, when `answerable` (to build the error response). */
  partial: unknown;

  constructor(reason: string, status = 400, answerable = false) {
    // A parse error is an answer about the input, not a bug: no stack trace is captured (it was
    // a tenth of the time spent on a flood of malformed messages).
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(reason);
    Error.stackTraceLimit = limit;
    this.name = 'SipParseError';
    this.reason = reason;
    this.status = status;
    this.answerable = answerable;
  }
}
