import { chromium, FullConfig } from "@playwright/test";
import { ADMIN_PASSWORD } from "./fixtures";

// Signs in once through the login page and keeps the session for every test's browser.
export default async function globalSetup(config: FullConfig) {
  const { baseURL, launchOptions, storageState } = config.projects[0].use;
  const browser = await chromium.launch(launchOptions);
  const page = await browser.newPage({ baseURL });
  await page.goto("/services");
  await page.waitForURL(/\/login/);
  await page.locator("#name").fill("admin");
  await page.locator("#password").fill(ADMIN_PASSWORD);
  await page.locator("#sign-in").click();
  await page.waitForURL(/\/services$/);
  await page.context().storageState({ path: storageState as string });
  await browser.close();
}
