// "Genomes kept in this browser": the unpacked copies of plain-gzip genomes (genome-store.js),
// each with its size, date and a Remove button. They stay in this browser's private storage
// for this site (OPFS); nothing is sent anywhere.
import { listKept, remove, keptChanges, storageMissing, fmtGB } from './genome-store.js';

const $ = (id) => document.getElementById(id);

export async function showKept() {
  const list = $('kept-list');
  const count = $('kept-count');
  if (!list) return;
  const missing = storageMissing();
  if (missing) {
    count.textContent = 'none';
    list.replaceChildren(item(`This browser cannot keep unpacked genomes: ${missing}. Recompress a plain-gzip .fa.gz with bgzip, or use the .2bit.`));
    return;
  }
  let kept;
  try {
    kept = await listKept();
  } catch (e) {
    list.replaceChildren(item(`The kept genomes cannot be listed: ${e.message}`));
    return;
  }
  const total = kept.reduce((n, k) => n + k.bytes, 0);
  const whole = kept.filter((k) => !k.incomplete).length;
  count.textContent = kept.length ? `${whole}${whole < kept.length ? ` + ${kept.length - whole} incomplete` : ''}, ${fmtGB(total)}` : 'none';
  if (!kept.length) {
    list.replaceChildren(item('None yet. A plain-gzip genome (.fa.gz as downloaded, not bgzip) is unpacked here on its first run and kept for the next ones.'));
    return;
  }
  list.replaceChildren(...kept.map((k) => {
    const li = item('');
    li.dataset.key = k.key;
    const what = document.createElement('span');
    what.className = 'kept-name';
    what.textContent = k.name;
    const size = document.createElement('span');
    size.className = 'note';
    size.textContent = k.incomplete
      ? `${fmtGB(k.bytes)}, incomplete (an unpacking that was interrupted or is running now): never used`
      : `${fmtGB(k.bytes)} unpacked (from ${fmtGB(k.size)}), kept ${new Date(k.created).toLocaleString()}`;
    const button = document.createElement('button');
    button.type = 'button';
    button.textContent = 'Remove';
    button.setAttribute('aria-label', `Remove the kept copy of ${k.name}`);
    button.onclick = async () => {
      button.disabled = true;
      try { await remove(k.key); } catch (e) { size.textContent = `could not be removed: ${e.message}`; button.disabled = false; }
    };
    li.append(what, size, button);
    return li;
  }));
}

function item(text) {
  const li = document.createElement('li');
  li.textContent = text;
  return li;
}

keptChanges.addEventListener('change', () => showKept());
showKept();
