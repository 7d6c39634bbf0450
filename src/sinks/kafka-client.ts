import type * as KafkaJs from 'kafkajs';

let library: typeof KafkaJs | undefined;

/**
 * kafkajs, loaded on first use: with the Schema Registry client it adds about half a second of
 * start-up to every process that imports the sinks (the server, each CLI command, each test
 * file), and most never produce a message.
 */
export async function kafkaLibrary(): Promise<typeof KafkaJs> {
  library ??= await import('kafkajs');
  return library;
}

/** kafkajs once {@link kafkaLibrary} has loaded it (a client, and so its loggers, exist only then). */
export function loadedKafka(): typeof KafkaJs {
  if (!library) throw new Error('kafkajs is not loaded yet');
  return library;
}
