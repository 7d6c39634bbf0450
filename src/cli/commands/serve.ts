import { InvalidArgumentError, Option, type Command } from 'commander';

/** `--port`: checked here, so a bad value is a usage error (exit code 2) naming the flag, as for every other command. */
function port(value: string): string {
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65535) throw new InvalidArgumentError('expected an integer from 0 to 65535 (0: any free port)');
  return value;
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .summary('start the HTTP API (what npm start runs)')
    .description('Starts the HTTP API and the Swagger UI at /docs. Configuration comes from the environment (PORT, HOST, sinks\' variables; see docs/cli.md); the flags override PORT and HOST.')
    .addOption(new Option('--port <port>', 'port to listen on (PORT, default 8000)').argParser(port))
    .option('--host <host>', 'interface to listen on (HOST, default localhost; 0.0.0.0 in a container)')
    .action(async (flags: { port?: string; host?: string }) => {
      if (flags.port !== undefined) process.env.PORT = flags.port;
      if (flags.host !== undefined) process.env.HOST = flags.host;
      // The server module starts the process on import: logger, graceful close, listen.
      await import('../../server.js');
    });
}
