// Debian's chromium (scripts/install-chromium.sh), headless, driven by playwright-core: the web console's
// end-to-end tests. Screenshots go to test-artifacts/ (gitignored), one per page, for people to look at.
import { execFileSync } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { ROOT } from './cairn.js';

/** The chromium on PATH (Debian's package installs /usr/bin/chromium). */
function chromiumPath(): string {
  return execFileSync('sh', ['-c', 'command -v chromium || command -v chromium-browser'], { encoding: 'utf8' }).trim();
}

export async function launchChromium(): Promise<Browser> {
  // --no-sandbox: CI runs as root, where chromium's sandbox cannot start.
  return chromium.launch({ executablePath: chromiumPath(), headless: true, args: ['--no-sandbox'] });
}

export const ARTIFACTS = join(import.meta.dirname, '..', '..', 'test-artifacts', 'console');

export async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/**
 * Chromium on the console at `url`, logged in with access keys (root's by default), and the messages of any
 * dialog the page opened (none is expected: a dialog would be script injected through a name or value).
 */
export async function consoleLogin(
  url: string,
  who: { accessKey: string; secretKey: string } = ROOT,
): Promise<{ browser: Browser; page: Page; dialogs: string[] }> {
  const browser = await launchChromium();
  const page = await (await browser.newContext()).newPage();
  const dialogs: string[] = [];
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  await page.goto(`${url}/console/`);
  await page.fill('input[name=accessKey]', who.accessKey);
  await page.fill('input[name=secretKey]', who.secretKey);
  await page.click('button[type=submit]');
  await page.waitForSelector('[data-testid=who]');
  return { browser, page, dialogs };
}
