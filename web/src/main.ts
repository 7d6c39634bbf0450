/** The control panel: Explore a world, Run sinks and streams, Watch jobs. Public API only. */
import 'uplot/dist/uPlot.min.css';
import '../panel.css';
import { apiKey, getJson, messageOf, onKeyNeeded } from './api.js';
import { drawCharts } from './charts.js';
import { byId, say } from './dom.js';
import { setupExplore } from './explore.js';
import { onJobStarted, setupRun } from './run.js';
import { addIfNew, setupWatch, type JobJson } from './watch.js';

/** Opens the key dialog; resolves with the key saved, or null. */
function askForKey(): Promise<string | null> {
  const dialog = byId<HTMLDialogElement>('key-dialog');
  const input = dialog.querySelector<HTMLInputElement>('input[name=key]') as HTMLInputElement;
  input.value = apiKey.get() ?? '';
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener(
      'close',
      () => {
        if (dialog.returnValue === 'save') {
          apiKey.set(input.value.trim());
          resolve(input.value.trim() || null);
        } else resolve(null);
      },
      { once: true },
    );
  });
}

async function main(): Promise<void> {
  onKeyNeeded(askForKey);
  byId('key-button').addEventListener('click', () => void askForKey());
  byId('draw-charts').addEventListener('click', () => void drawCharts());
  onJobStarted((job) => addIfNew(job as JobJson));
  const { body: index } = await getJson<{ entities: Record<string, string> }>('/');
  await Promise.all([setupExplore(), setupRun(Object.keys(index.entities)), setupWatch()]);
  document.body.dataset.ready = 'true';
}

main().catch((error: unknown) => say(byId('explore-error'), messageOf(error)));
