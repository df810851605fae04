import { test, expect } from "../fixtures";

test("a running execution is cancelled from its page and shows it", async ({ page, api }) => {
  const id = `e2e-cancel-${Date.now()}`;
  const response = await api.post("/api/v1/events", {
    headers: {
      "ce-specversion": "1.0",
      "ce-id": id,
      "ce-source": "/e2e/cancel",
      "ce-type": "ferris.apps.minio.file_uploaded",
      "content-type": "application/json",
    },
    data: { bucket: "uploads" },
  });
  expect(response.status()).toBe(202);

  // The demo service sleeps 5 s before DONE!: cancel it while it runs.
  let executionId = "";
  await expect(async () => {
    const list = await (await api.get(`/api/v1/executions?event_id=${id}`)).json();
    expect(list.executions.length).toBe(1);
    expect(list.executions[0].status).toBe("running");
    executionId = list.executions[0].id;
  }).toPass({ timeout: 20_000 });

  await page.goto(`/executions/${executionId}`);
  await expect(page.locator("#log")).toContainText("BEGIN");
  await page.locator("#cancel").click();
  await expect(page).toHaveURL(new RegExp(`/executions/${executionId}$`));
  await expect(async () => {
    await page.reload();
    await expect(page.locator("#log-status")).toContainText("cancelled", { timeout: 1000 });
  }).toPass({ timeout: 20_000 });
  await expect(page.locator("#cancel")).toHaveCount(0);
  await expect(page.locator("#log")).not.toContainText("DONE!");

  const shown = await (await api.get(`/api/v1/executions/${executionId}`)).json();
  expect(shown.status).toBe("cancelled");
});
