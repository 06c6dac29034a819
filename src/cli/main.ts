// daxsim's command line: main(argv, io) -> exit code (0 clean/as expected,
// 1 violations or failed expectations, 2 usage, input or internal error).
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { InputError, formatDiagnostic } from '../scenario/diagnostic.js';
import { BadToken } from '../sim/schedule.js';
import { ScheduleMismatch } from '../sim/strategy.js';
import { chalkFor, type Io } from './io.js';
import { runCommand } from './run.js';
import { checkCommand } from './check.js';
import { kernelsCommand, invariantsCommand, schemaCommand } from './info.js';
import { fuzzCommand, parseShard } from './fuzz.js';
import { exploreCommand } from './explore.js';
import { VERSION } from '../version.js';
import { REPORTERS } from '../report/index.js';

export { VERSION };

export interface CommonOpts {
  color?: boolean;
}

export function parseCount(name: string, max: number) {
  return (v: string): number => {
    if (!/^\d+$/.test(v)) throw new InvalidArgumentError(`${name} must be a non-negative integer`);
    const n = Number(v);
    if (n < 1 || n > max) throw new InvalidArgumentError(`${name} must be between 1 and ${max}`);
    return n;
  };
}

export function parseBound(v: string): number {
  if (!/^\d+$/.test(v) || Number(v) > 1000) throw new InvalidArgumentError('expected a number of preemptions, 0 to 1000');
  return Number(v);
}

export function parseSeed(v: string): string {
  if (!/^[A-Za-z0-9_.:-]{1,64}$/.test(v)) throw new InvalidArgumentError('a seed is 1-64 letters, digits or _.:- characters');
  return v;
}

export async function main(argv: readonly string[], io: Io): Promise<number> {
  let code = 0;
  const program = new Command('daxsim')
    .description('Run race scenarios against a simulated Linux filesystem-DAX stack under a deterministic scheduler')
    .version(VERSION)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    })
    .showHelpAfterError('(run daxsim --help for usage)');

  const reporter = () => new Option('--reporter <name>', 'output format').choices([...REPORTERS]).default('pretty');
  const reporterOut = () => new Option('--reporter-out <file>', 'write the report to this file (atomically; stdout then shows the pretty report)');
  const maxSteps = () => new Option('--max-steps <n>', 'step budget per run; running out is a livelock').argParser(parseCount('--max-steps', 100_000_000));

  program
    .command('run')
    .description('run one scenario under one kernel and print the interleaving')
    .argument('<scenario>', 'a scenario YAML file')
    .option('--kernel <version>', 'kernel profile (default: the scenario\'s kernel:, else its first expect: key)')
    .addOption(new Option('--seed <seed>', 'run this seed only').argParser(parseSeed).conflicts('schedule'))
    .option('--schedule <token>', 'replay this schedule token')
    .addOption(new Option('--runs <n>', 'without --seed or --schedule: try seeds 0..n-1 and show the first that fails').argParser(parseCount('--runs', 10_000_000)).default(1000))
    .addOption(reporter())
    .addOption(reporterOut())
    .option('--trace-out <file>', 'write the shown run as Chrome Trace Event JSON (open it in ui.perfetto.dev)')
    .addOption(maxSteps())
    .option('--color', 'force colour')
    .option('--no-color', 'no colour')
    .action((file: string, opts) => {
      code = runCommand(file, opts, io);
    });

  program
    .command('check')
    .description('check every scenario\'s expect: verdicts (herd7-style: clean = Never, ids = each Sometimes and nothing else)')
    .argument('[paths...]', 'scenario files or directories (*.yaml inside, sorted)')
    .option('--corpus <dir>', 'also replay the regression corpus in this directory (fuzz --save-failures)')
    .addOption(new Option('--runs <n>', 'random schedules per scenario and kernel, where exhaustive exploration does not finish').argParser(parseCount('--runs', 10_000_000)).default(1000))
    .option('--no-explore', 'always sample random schedules instead of trying exhaustive DPOR exploration first')
    .addOption(new Option('--max-executions <n>', 'DPOR executions per scenario and kernel before falling back to sampling').argParser(parseCount('--max-executions', 1_000_000_000)).default(50_000))
    .addOption(reporter())
    .addOption(reporterOut())
    .addOption(maxSteps())
    .option('--color', 'force colour')
    .option('--no-color', 'no colour')
    .action((paths: string[], opts) => {
      code = checkCommand(paths, opts, io);
    });

  program
    .command('fuzz')
    .description('run many schedules from seeds; stop at the lowest failing seed, shrink it and show it')
    .argument('<scenarios...>', 'scenario files')
    .option('--kernel <version>', 'kernel profile (default: each scenario\'s kernel:, else its first expect: key)')
    .addOption(new Option('--strategy <name>', 'scheduler: random, pct (Burckhardt et al. 2010), or portfolio (random, pct d=1..3 in turn)').choices(['random', 'pct', 'portfolio']).default('pct'))
    .addOption(new Option('--depth <d>', 'PCT bug depth').argParser(parseCount('--depth', 10)).default(3))
    .addOption(new Option('--runs <n>', 'seeds 0..n-1').argParser(parseCount('--runs', 1_000_000_000)).default(10_000))
    .addOption(new Option('--time <seconds>', 'stop after this long (the report says how many schedules ran)').argParser(parseCount('--time', 1_000_000)))
    .addOption(new Option('--jobs <n>', 'worker threads (the output is the same for any n)').argParser(parseCount('--jobs', 64)).default(1))
    .addOption(new Option('--shard <i/n>', 'run only seeds s with s % n == i-1 (1-based, as jest and playwright)').argParser(parseShard).default({ i: 1, n: 1 }, '1/1'))
    .option('--keep-going', 'collect every distinct violation (by id and place) instead of stopping at the first')
    .option('--save-failures <dir>', 'write each shrunk failing schedule to this directory as a corpus entry (check --corpus replays them)')
    .addOption(reporter())
    .addOption(reporterOut())
    .addOption(maxSteps())
    .option('--color', 'force colour')
    .option('--no-color', 'no colour')
    .action(async (files: string[], opts) => {
      let sigint = false;
      const onSig = () => {
        sigint = true;
      };
      process.on('SIGINT', onSig);
      try {
        code = await fuzzCommand(files, opts, io, () => sigint);
      } finally {
        process.off('SIGINT', onSig);
      }
    });

  program
    .command('explore')
    .description('explore every interleaving that matters (DPOR), or every schedule within a preemption bound')
    .argument('<scenario>', 'a scenario YAML file')
    .option('--kernel <version>', 'kernel profile')
    .addOption(new Option('--preemptions <b>', 'only schedules with at most b preemptions (CHESS-style bound)').argParser(parseBound))
    .option('--no-dpor', 'plain depth-first search (for comparison)')
    .addOption(new Option('--max-executions <n>', 'stop after this many executions').argParser(parseCount('--max-executions', 1_000_000_000)))
    .addOption(reporter())
    .addOption(reporterOut())
    .addOption(maxSteps())
    .option('--color', 'force colour')
    .option('--no-color', 'no colour')
    .action((file: string, opts) => {
      code = exploreCommand(file, opts, io);
    });

  program
    .command('kernels')
    .description('print the kernel profiles and their behaviour flags, or one profile with its commits')
    .argument('[version]', 'one profile')
    .action((version: string | undefined) => {
      code = kernelsCommand(version, io);
    });

  program
    .command('invariants')
    .description('list the invariant ids with the promise each one checks')
    .action(() => {
      code = invariantsCommand(io);
    });

  program
    .command('schema')
    .description('print the JSON Schema (draft-07) of the scenario format')
    .action(() => {
      code = schemaCommand(io);
    });

  const err = chalkFor(argv.includes('--no-color') ? false : argv.includes('--color') ? true : undefined, io.env, io.stderr);
  try {
    await program.parseAsync(argv as string[], { from: 'user' });
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      return e.exitCode === 0 ? 0 : 2;
    }
    if (e instanceof InputError) {
      for (const d of e.diagnostics) io.stderr.write(`${err.red(formatDiagnostic(d))}\n`);
      return 2;
    }
    if (e instanceof BadToken || e instanceof ScheduleMismatch) {
      io.stderr.write(`${err.red('daxsim: ' + e.message)}\n`);
      return 2;
    }
    const msg = e instanceof Error ? e.message : String(e);
    io.stderr.write(`${err.red('daxsim: internal error: ' + msg)}\n`);
    if (io.env.DAXSIM_DEBUG && e instanceof Error && e.stack) io.stderr.write(e.stack + '\n');
    return 2;
  }
}
