import { Page } from "@playwright/test";
import { test, expect } from "../fixtures";

// The page is server-rendered; live behaviour needs the wasm. Wait until hydration has happened.
async function hydrated(page: Page) {
  await page.waitForFunction(() => (window as any).__k8x_hydrated === true, null, { timeout: 20_000 });
}

test("the demo service runs from its Run button and DONE! appears in the live log", async ({ page }) => {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));

  await page.goto("/services");
  await expect(page.locator("#services")).toContainText("k8s_test_job");
  await page.getByRole("link", { name: "k8s_test_job" }).click();
  await expect(page.locator("h1")).toContainText("k8s_test_job");

  await page.locator("#run-button").click();
  await expect(page).toHaveURL(/\/executions\/[0-9a-f-]{36}$/);
  // The server rendered the page while the service runs (it sleeps 5 s before DONE!) ...
  await expect(page.locator("#log-status")).toContainText(/queued|running/);
  await hydrated(page);

  // ... so DONE! can only appear by following the live log, without a reload.
  await expect(page.locator("#log")).toContainText("BEGIN");
  await expect(page.locator("#log")).toContainText("DONE!", { timeout: 30_000 });
  await expect(page.locator("#log-status")).toContainText("succeeded");
  await expect(page.locator("#log")).toContainText("K8X_SERVICE=k8s_test_job");
  // At the end the page reloads its facts without a navigation.
  await expect(page.locator("#finished-at")).toHaveText(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
  expect(errors).toEqual([]);
});

test("the form's values reach the container typed", async ({ page }) => {
  await page.goto("/services/form_demo");
  await page.locator("#run-button").click();
  await page.locator("#field-some_text").fill("hello from the form");
  await page.locator("#field-some_number").fill("7");
  await page.locator("#field-some_float").fill("2.5");
  await page.locator("#field-some_select").selectOption("value 1");
  await page.locator("#field-some_multiselect").selectOption(["value 1", "value 3"]);
  await page.getByLabel("Choice 2").check();
  await page.locator("#field-some_file").setInputFiles({ name: "note.txt", mimeType: "text/plain", buffer: Buffer.from("hi") });
  await page.locator("#run-submit").click();
  await expect(page).toHaveURL(/\/executions\//);
  await expect(page.locator("#log")).toContainText("DONE!");
  const log = await page.locator("#log").innerText();
  const params = JSON.parse(log.split("\n").find((l) => l.startsWith("K8X_PARAMS="))!.slice("K8X_PARAMS=".length));
  expect(params.some_text).toBe("hello from the form");
  expect(params.some_number).toBe(7);
  expect(params.some_float).toBe(2.5);
  expect(params.some_select).toBe("value 1");
  expect(params.some_multiselect).toEqual(["value 1", "value 3"]);
  expect(params.some_radio).toBe("value 2");
  expect(params.some_file.filename).toBe("note.txt");
  expect(params.some_file.content_base64).toBe("aGk=");
});

test("a refused value comes back to the form with the reason", async ({ page, api }) => {
  // The browser would stop an out-of-range number itself; post the form as a script would.
  const response = await api.post("/services/form_demo/run", {
    multipart: { some_text: "x", some_number: "99" },
    maxRedirects: 0,
  });
  expect(response.status()).toBe(303);
  await page.goto(response.headers()["location"]);
  await expect(page.locator("#run-error")).toContainText("some_number");
  await expect(page.locator("#run-error")).toContainText("above the maximum 10");
});
