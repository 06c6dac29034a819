// daxsim explore: every interleaving that matters (DPOR), or every schedule
// within a preemption bound; a violation's schedule is shrunk and shown.
import { loadScenarioFile } from '../scenario/load.js';
import { exploreScenario, DEFAULT_MAX_EXECUTIONS } from '../check/explore.js';
import { kernelFor, runScenario } from '../check/run.js';
import { shrinkToken } from '../check/fuzz.js';
import { decodeSchedule } from '../sim/schedule.js';
import { renderTrace, renderViolations, reproduceLine } from '../report/pretty.js';
import { runToJson } from '../report/json.js';
import { chalkFor, type Io } from './io.js';
import { checkKernelFlag } from './run.js';
import { vocabulary } from './vocab.js';
import { caseNamer, openReport, verdictCase } from './report.js';
import type { ReporterName } from '../report/index.js';
import { VERSION } from '../version.js';

export interface ExploreOpts {
  kernel?: string;
  preemptions?: number;
  dpor: boolean;
  maxExecutions?: number;
  maxSteps?: number;
  reporter: ReporterName;
  reporterOut?: string;
  color?: boolean;
}

export function exploreCommand(file: string, opts: ExploreOpts, io: Io): number {
  checkKernelFlag(opts.kernel);
  const scn = loadScenarioFile(file, vocabulary());
  const kernel = kernelFor(scn, opts.kernel);
  const r = exploreScenario(scn, { kernel: kernel.name, preemptions: opts.preemptions, dpor: opts.dpor, maxExecutions: opts.maxExecutions ?? DEFAULT_MAX_EXECUTIONS, maxSteps: opts.maxSteps });
  const method = opts.preemptions !== undefined
    ? `depth-first search of every schedule with at most ${opts.preemptions} preemption${opts.preemptions === 1 ? '' : 's'} (no partial-order reduction under a bound)`
    : opts.dpor
      ? 'dynamic partial-order reduction (Flanagan-Godefroid, with sleep sets)'
      : 'plain depth-first search of every schedule';
  const scope = opts.preemptions !== undefined ? `in any schedule with at most ${opts.preemptions} preemption${opts.preemptions === 1 ? '' : 's'}` : 'in any interleaving';
  const shown = r.violations.length > 0
    ? (() => {
        const v = r.violations[0]!;
        const s = shrinkToken(scn, kernel.flags, v.choices, v.id, opts.maxSteps);
        return { run: runScenario(scn, { kernel: kernel.name, schedule: s.token, record: true, maxSteps: opts.maxSteps }), from: v.choices.length, to: decodeSchedule(s.token).length };
      })()
    : null;
  if (opts.reporterOut !== undefined || (opts.reporter !== 'pretty' && opts.reporter !== 'json')) {
    // every other format, or --reporter-out, through the report model: one case, judged by the scenario's expect: for this kernel when it has one
    const session = openReport(opts, io);
    session.reporter.start({ command: 'explore', daxsim: VERSION, cases: 1 });
    const entry = scn.expect.find((e) => e.kernel === kernel.name);
    const seen = new Map<string, number | null>(r.violations.map((v) => [v.id, null]));
    const failing = shown ? { seed: null, result: shown.run } : null;
    const c = entry !== undefined
      ? verdictCase(scn, entry, { kernel: kernel.name, expected: entry.verdict, seen, schedules: r.executions, exploration: r.complete ? 'exhaustive' : 'sampled', failing }, caseNamer([scn])(scn, kernel.name))
      : verdictCase(scn, undefined, { kernel: kernel.name, expected: 'clean', seen, schedules: r.executions, exploration: r.complete ? 'exhaustive' : 'sampled', failing }, caseNamer([scn])(scn, kernel.name));
    session.reporter.case(c);
    const code = c.status === 'fail' ? 1 : 0;
    session.reporter.end({ exitCode: code });
    session.finish();
    return code;
  }
  if (opts.reporter === 'json') {
    io.stdout.write(JSON.stringify({
      version: 1,
      file,
      scenario: scn.name,
      kernel: kernel.name,
      method,
      preemptions: opts.preemptions ?? null,
      executions: r.executions,
      sleepBlocked: r.sleepBlocked,
      complete: r.complete,
      proof: r.complete && r.violations.length === 0,
      violations: r.violations.map((v) => ({ id: v.id, executions: v.count, message: v.message, schedule: r.tokens.get(v.id) })),
      shown: shown ? runToJson(shown.run) : null,
    }, null, 2) + '\n');
  } else {
    const c = chalkFor(opts.color, io.env, io.stdout);
    let s = `${c.bold(scn.name)} on ${kernel.name}: ${r.executions} executions explored by ${method}`;
    s += r.sleepBlocked > 0 ? `, ${r.sleepBlocked} redundant ones cut short by sleep sets` : '';
    s += `; longest ${r.maxDepth} steps\n`;
    if (!r.complete) s += c.yellow(`stopped at the budget of ${opts.maxExecutions ?? DEFAULT_MAX_EXECUTIONS} executions (--max-executions): the search is incomplete, this is no proof\n`);
    if (r.violations.length === 0) {
      s += r.complete ? c.green(`no violation ${scope}`) + ': a proof for this scenario and kernel' + (opts.preemptions !== undefined ? ' within the bound' : '') + '\n' : 'no violation in the executions explored\n';
    } else {
      for (const v of r.violations) s += `${c.red('✗ ' + v.id)} in ${v.count} of ${r.executions} executions\n    ${v.message}\n`;
      if (shown) {
        s += `\nthe first, shrunk from ${shown.from} to ${shown.to} steps:\n\n`;
        s += renderTrace(shown.run, c) + '\n' + renderViolations(shown.run, c) + `\n${reproduceLine(shown.run)}\n`;
      }
    }
    io.stdout.write(s);
  }
  return r.violations.length > 0 ? 1 : 0;
}
