// A process's CPU time from /proc, for the benches that print each server's CPU per download.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout?.trim()) || 100;

/** CPU seconds (user + system, all threads) a process has used so far; NaN where there is no /proc. */
export function cpuSeconds(pid) {
  return statSeconds(`/proc/${pid}/stat`);
}

/** CPU seconds (user + system) a process's main thread has used so far (its render threads not counted); NaN where there is no /proc. */
export function mainThreadSeconds(pid) {
  return statSeconds(`/proc/${pid}/task/${pid}/stat`);
}

function statSeconds(path) {
  try {
    const stat = readFileSync(path, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return NaN;
  }
}
