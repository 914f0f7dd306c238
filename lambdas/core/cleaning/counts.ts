/** Accounting of one cleaning or screening pass: what came in, what went on, what was quarantined. */

/** Received = clean + quarantined, always. */
export interface Tally {
  received: number;
  clean: number;
  quarantined: number;
}

/** Messages: received = accepted + quarantined (per message: 1 = 1 + 0 or 0 + 1). */
export interface MessageTally {
  received: number;
  accepted: number;
  quarantined: number;
}

export interface Counts {
  messages: MessageTally;
  samples: Tally;
  readings: Tally;
  /** Device events (`pdm.event.v1`); absent while no events message was counted. */
  events?: Tally;
}

/** Counts of a screening pass, which sees samples, not messages. */
export interface SampleCounts {
  samples: Tally;
  readings: Tally;
}

/** All zeros: the identity of {@link addCounts}. */
export function emptyCounts(): Counts {
  return {
    messages: { received: 0, accepted: 0, quarantined: 0 },
    samples: { received: 0, clean: 0, quarantined: 0 },
    readings: { received: 0, clean: 0, quarantined: 0 },
  };
}

/** Sum of two counts, as a new object (summaries over a Kinesis batch, a file, a run). */
export function addCounts(a: Counts, b: Counts): Counts {
  return {
    messages: {
      received: a.messages.received + b.messages.received,
      accepted: a.messages.accepted + b.messages.accepted,
      quarantined: a.messages.quarantined + b.messages.quarantined,
    },
    samples: addTally(a.samples, b.samples),
    readings: addTally(a.readings, b.readings),
    ...(a.events !== undefined || b.events !== undefined
      ? { events: addTally(a.events ?? NO_TALLY, b.events ?? NO_TALLY) }
      : {}),
  };
}

const NO_TALLY: Readonly<Tally> = Object.freeze({ received: 0, clean: 0, quarantined: 0 });

function addTally(a: Tally, b: Tally): Tally {
  return {
    received: a.received + b.received,
    clean: a.clean + b.clean,
    quarantined: a.quarantined + b.quarantined,
  };
}
