import { test, expect } from "../fixtures";

test("a posted CloudEvent triggers a run that appears in the executions list", async ({ page, api }) => {
  const id = `e2e-${Date.now()}`;
  const response = await api.post("/api/v1/events", {
    headers: {
      "ce-specversion": "1.0",
      "ce-id": id,
      "ce-source": "/e2e/minio",
      "ce-type": "ferris.apps.minio.file_uploaded",
      "content-type": "application/json",
    },
    data: { bucket: "uploads", key: "report.pdf" },
  });
  expect(response.status()).toBe(202);
  expect(await response.json()).toEqual({ id });

  await page.goto("/executions");
  const row = page.locator(`tr[data-event-id="${id}"]`);
  await expect(async () => {
    await page.reload();
    await expect(row).toBeVisible({ timeout: 1000 });
  }).toPass({ timeout: 20_000 });
  await expect(row).toContainText("k8s_test_job");
  await row.getByRole("link").first().click();
  await expect(page.locator("#params")).toContainText("report.pdf");
});

test("a malformed event is refused with a reason", async ({ api }) => {
  const response = await api.post("/api/v1/events", {
    headers: { "content-type": "application/cloudevents+json" },
    data: { specversion: "1.0", id: "x", source: "/e2e" },
  });
  expect(response.status()).toBe(400);
  expect((await response.json()).error).toContain("type");
});
