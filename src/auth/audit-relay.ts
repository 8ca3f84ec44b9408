import type { Audit, AuditEvent, AuditFields } from './audit.js';

/** Events held before a sink is attached; a process records a handful at start, never more. */
const MAX_HELD = 100;

/**
 * The audit sink for events no request asked for (a signing key generated at start or on reload).
 * Services are built before the logger that records them exists, so events are held until a sink
 * is attached (the server's logger, the CLI's stderr), then passed on as they come.
 */
export class AuditRelay {
  #sink: Audit | undefined;
  readonly #held: [AuditEvent, AuditFields][] = [];

  /** Records one event: passed to the sink, or held until there is one. */
  readonly record: Audit = (event, fields) => {
    if (this.#sink) this.#sink(event, fields);
    else if (this.#held.length < MAX_HELD) this.#held.push([event, fields]);
  };

  /** Sends every event to `sink` from now on, the held ones first. */
  attach(sink: Audit): void {
    this.#sink = sink;
    for (const [event, fields] of this.#held.splice(0)) sink(event, fields);
  }
}
