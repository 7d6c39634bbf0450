/**
 * The `ecomgen` command: a thin layer over the same world, formats and sinks as the HTTP API.
 * Each command lives in its own file under commands/ and registers itself here; a new one
 * is one file and one line.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { ApiError } from '../plugins/errors.js';
import { registerGenerate } from './commands/generate.js';
import { LoadFailed, registerLoad } from './commands/load.js';
import { registerEvents } from './commands/events.js';
import { registerServe } from './commands/serve.js';
import { registerStream } from './commands/stream.js';
import { Interrupted } from './interrupt.js';
import { keepWorkingWithoutStderr, processOutput, type Output } from './output.js';
import { UsageError, flagOf } from './validate.js';

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

export type { Output } from './output.js';

export function buildProgram(output: Output = processOutput): Command {
  const program = new Command('ecomgen')
    .configureOutput({ writeOut: (text) => output.stdout.write(text), writeErr: (text) => output.stderr.write(text) })
    .description('Realistic, reproducible e-commerce data: write fixture files, load sinks, write or stream the change feed, or serve the HTTP API.\nRecord i of every entity is a pure function of the seed and sizes: the same flags give the same bytes.')
    .version(version)
    .showSuggestionAfterError()
    .exitOverride()
    .configureHelp({ sortSubcommands: false, showGlobalOptions: false });
  registerGenerate(program, output);
  registerLoad(program, output);
  registerEvents(program, output);
  registerStream(program, output);
  registerServe(program);
  program.addHelpText('after', '\nRun `ecomgen <command> --help` for a command\'s flags. Docs: docs/cli.md, docs/scaling.md.');
  return program;
}

/** Runs the command line; resolves to the exit code. */
export async function main(argv: readonly string[], output: Output = processOutput): Promise<number> {
  if (output === processOutput) keepWorkingWithoutStderr();
  const program = buildProgram(output);
  try {
    await program.parseAsync(argv as string[], { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2; // commander has printed its message
    if (error instanceof UsageError) {
      output.stderr.write(`error: ${error.message}\n`);
      return 2;
    }
    if (error instanceof ApiError && (error.statusCode === 400 || error.statusCode === 422)) {
      // The shared validation names query and body fields; on the command line they are flags.
      output.stderr.write(`error: ${error.message.replace(/^([a-z_]+):/, (_, name: string) => `${flagOf(name)}:`)}\n`);
      return 2;
    }
    if (error instanceof Interrupted) {
      output.stderr.write(`\n${error.signal}: interrupted: ${error.message}\n`);
      return error.exitCode;
    }
    if (error instanceof LoadFailed) {
      output.stderr.write(`error: ${error.message}\n`);
      return 1;
    }
    output.stderr.write(`error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return 1;
  }
}
