// The reporters by name (`--reporter`), each over the same report model (model.ts).
import type { ChalkInstance } from 'chalk';
import type { Reporter, Sink } from './model.js';
import { PrettyReporter } from './pretty.js';
import { JsonReporter } from './json.js';
import { NdjsonReporter } from './ndjson.js';
import { JunitReporter } from './junit.js';
import { TapReporter } from './tap.js';
import { GithubReporter } from './github.js';

export const REPORTERS = ['pretty', 'json', 'ndjson', 'junit', 'tap', 'github'] as const;
export type ReporterName = (typeof REPORTERS)[number];

/** `chalk` colours the human formats (pretty, github); machine formats never have colour. */
export function createReporter(name: ReporterName, out: Sink, chalk: ChalkInstance): Reporter {
  switch (name) {
    case 'pretty':
      return new PrettyReporter(out, chalk);
    case 'json':
      return new JsonReporter(out);
    case 'ndjson':
      return new NdjsonReporter(out);
    case 'junit':
      return new JunitReporter(out);
    case 'tap':
      return new TapReporter(out);
    case 'github':
      return new GithubReporter(out, chalk);
  }
}

/** Sends every call to each reporter in turn. */
export class TeeReporter implements Reporter {
  constructor(private readonly reporters: readonly Reporter[]) {}
  start(...a: Parameters<Reporter['start']>): void {
    for (const r of this.reporters) r.start(...a);
  }
  case(...a: Parameters<Reporter['case']>): void {
    for (const r of this.reporters) r.case(...a);
  }
  end(...a: Parameters<Reporter['end']>): void {
    for (const r of this.reporters) r.end(...a);
  }
}
