// Debian's chromium (scripts/install-chromium.sh), headless, driven by playwright-core: the web console's
// end-to-end tests. Screenshots go to test-artifacts/ (gitignored), one per page, for people to look at.
import { execFileSync } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';

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
