// Draws the model card's figures with the page itself: opens dist/ in headless Chromium,
// runs the demo (the first model, the demo data and its annotations) and saves each
// analysis figure for one profile as PNG beside the model.
//   node scripts/model-card-figures.mjs [profile=Glut] [out=models/demo-motif-grammar/figures]
import fs from 'node:fs';
import path from 'node:path';
import { startServer, launch, openPage, root } from '../tests/browser/harness.mjs';

const profile = process.argv[2] ?? 'Glut';
const out = path.resolve(root, process.argv[3] ?? 'models/demo-motif-grammar/figures');
fs.mkdirSync(out, { recursive: true });
const srv = await startServer();
const browser = await launch();
try {
  const { page } = await openPage(browser, srv.origin);
  await page.setViewportSize({ width: 1100, height: 900 });
  const started = Date.now();
  await page.click('#demo-button');
  await page.waitForSelector('#analysis-section[data-ready="true"]', { timeout: 600_000 });
  await page.selectOption('#analysis-profile', profile);
  await page.waitForFunction((p) => document.getElementById('analysis-json').textContent.includes(`"profile": "${p}"`), profile);
  for (const id of ['enrichment', 'heatmap', 'locus', 'imbalance', 'gerp', 'maf']) {
    await page.locator(`#figure-${id}`).screenshot({ path: path.join(out, `${id}.png`) });
  }
  console.log(`${await page.textContent('#summary')}\nfigures for ${profile} in ${out} (${((Date.now() - started) / 1000).toFixed(0)} s)`);
} finally {
  await browser.close();
  srv.server.close();
}
