import { test, expect } from "../fixtures";

// These start signed out: a fresh browser without the admin's session.
test.use({ storageState: { cookies: [], origins: [] } });

test("a page needs a session: sign in, see who you are, sign out", async ({ page }) => {
  await page.goto("/executions");
  await expect(page).toHaveURL(/\/login\?next=%2Fexecutions/);
  await page.locator("#name").fill("admin");
  await page.locator("#password").fill("not the password");
  await page.locator("#sign-in").click();
  await expect(page.locator("#login-error")).toContainText("Wrong name or password");

  await page.locator("#name").fill("admin");
  await page.locator("#password").fill("e2e-admin-password");
  await page.locator("#sign-in").click();
  await expect(page).toHaveURL(/\/executions$/);
  await expect(page.locator("#whoami")).toContainText("Signed in as admin (admin)");

  await page.locator("#sign-out").click();
  await expect(page).toHaveURL(/\/login$/);
  await page.goto("/services");
  await expect(page).toHaveURL(/\/login/);
});

test("an admin adds a viewer, who may look but not run", async ({ page, browser }) => {
  await page.goto("/login");
  await page.locator("#name").fill("admin");
  await page.locator("#password").fill("e2e-admin-password");
  await page.locator("#sign-in").click();
  await page.goto("/admin/users");
  const name = `viewer${Date.now()}`;
  const form = page.locator("#add-user");
  await form.locator("input[name=name]").fill(name);
  await form.locator("select[name=role]").selectOption("viewer");
  await form.locator("input[name=password]").fill("a viewer's long password");
  await form.getByRole("button", { name: "Add" }).click();
  await expect(page.locator(`tr[data-user="${name}"]`)).toBeVisible();

  const context = await browser.newContext({ storageState: { cookies: [], origins: [] } });
  const viewer = await context.newPage();
  await viewer.goto("/login");
  await viewer.locator("#name").fill(name);
  await viewer.locator("#password").fill("a viewer's long password");
  await viewer.locator("#sign-in").click();
  await expect(viewer.locator("#whoami")).toContainText(`${name} (viewer)`);
  await expect(viewer.locator("nav.admin")).toHaveCount(0);
  await viewer.goto("/services/k8s_test_job");
  await expect(viewer.locator("#view-only")).toBeVisible();
  await expect(viewer.locator("#run-button")).toHaveCount(0);
  // The server refuses what the page does not offer.
  await viewer.goto("/admin/users");
  await expect(viewer.locator("main")).toContainText("may not administer");
  await context.close();
});

test("an admin creates a token, shown once, that ingests", async ({ page, request }) => {
  await page.goto("/login");
  await page.locator("#name").fill("admin");
  await page.locator("#password").fill("e2e-admin-password");
  await page.locator("#sign-in").click();
  await page.goto("/admin/tokens");
  const form = page.locator("#create-token");
  await form.locator("input[name=name]").fill("e2e ci");
  await form.locator("input[name=scopes]").fill("ingest");
  await form.getByRole("button", { name: "Create" }).click();
  const token = (await page.locator("#shown-once").textContent())!.trim();
  expect(token).toMatch(/^k8x_/);
  await expect(page.locator("#tokens")).toContainText(token.slice(0, 12));
  await expect(page.locator("#tokens")).not.toContainText(token);

  const event = { specversion: "1.0", id: `e2e-token-${Date.now()}`, source: "/e2e", type: "nobody.listens" };
  const headers = { "content-type": "application/cloudevents+json" };
  expect((await request.post("/api/v1/events", { headers, data: event })).status()).toBe(401);
  const accepted = await request.post("/api/v1/events", {
    headers: { ...headers, authorization: `Bearer ${token}` },
    data: event,
  });
  expect(accepted.status()).toBe(202);
});
