// The embedded scorer: the package's API, a model from this site, a pasted REF/ALT pair.
import { BrainResNet, loadCore, scoreValues } from './brain-resnet-web/brain-resnet.js';
const $ = (id) => document.getElementById(id);
// The model is this site's own: a directory written by `brain-resnet convert`.
const br = await BrainResNet.load(new URL('model/', location.href).href, { backend: 'cpu', workers: 1 });
await loadCore();
$('status').textContent = `${br.manifest.name} ready`;
$('go').disabled = false;
$('go').onclick = async () => {
  const [ref, alt] = await br.predictFasta(`>ref\n${$('ref').value}\n>alt\n${$('alt').value}\n`);
  if (ref.error || alt.error) { $('status').textContent = ref.error ?? alt.error; return; }
  const diff = scoreValues('diff', ref.probs, alt.probs);
  $('out').replaceChildren(...br.labels.map((label, i) => {
    const tr = document.createElement('tr');
    tr.innerHTML = '<td></td><td></td>';
    tr.cells[0].textContent = label;
    tr.cells[1].textContent = diff[i].toFixed(5);
    return tr;
  }));
  $('status').textContent = 'ALT - REF per profile:';
  document.body.dataset.done = 'true';
};
