import { test, expect } from "../fixtures";

// Every page is rendered on the server: with JavaScript off, a person can still find a service, fill in its
// form, run it and read the log (reloading instead of following it live).
test.use({ javaScriptEnabled: false });

test("a form run works with JavaScript disabled", async ({ page }) => {
  await page.goto("/services?q=forms");
  await expect(page.locator("#services")).toContainText("form_demo");
  await expect(page.locator("#services")).not.toContainText("k8s_test_job");
  await page.getByRole("link", { name: "form_demo" }).click();
  await page.locator("#run-button").click(); // a <details> summary: opens without script
  await page.locator("#field-some_text").fill("no script");
  await page.locator("#run-submit").click();
  await expect(page).toHaveURL(/\/executions\/[0-9a-f-]{36}$/);
  await expect(async () => {
    await page.reload();
    await expect(page.locator("#log")).toContainText("DONE!", { timeout: 500 });
  }).toPass({ timeout: 20_000 });
  await expect(page.locator("#log")).toContainText('"some_text":"no script"');
  await expect(page.locator("#log")).toContainText('"some_number":1');
});
