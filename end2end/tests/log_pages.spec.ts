import { test, expect } from "../fixtures";

// A 300,000-line log: its page shows the newest lines and links to pages of the whole log; a page opens in
// Chromium with its lines, the next page follows, and a search finds the lines containing a text. The time
// to open a page is printed (the figure README's Performance table quotes), not asserted.
test("a 300,000-line log is read in pages and searched", async ({ page, api }) => {
  test.setTimeout(120_000);
  const id = `big-${Date.now()}`;
  const response = await api.post("/api/v1/events", {
    headers: { "ce-specversion": "1.0", "ce-id": id, "ce-source": "/e2e", "ce-type": "e2e.big_log" },
  });
  expect(response.status()).toBe(202);
  let execution = "";
  await expect(async () => {
    const list = await (await api.get(`/api/v1/executions?service=big_log`)).json();
    const run = list.executions.find((e: { event_id: string }) => e.event_id === id);
    expect(run?.status).toBe("succeeded");
    execution = run.id;
  }).toPass({ timeout: 90_000 });

  await page.goto(`/executions/${execution}`);
  await expect(page.locator("#log-truncated")).toContainText("The newest 5000 of 300000 lines");
  await expect(page.locator("#log")).toContainText("line 300000");

  const started = Date.now();
  await page.locator("#whole-log").click();
  await expect(page.locator("#log-place")).toHaveText("Lines 1–5000 of 300000");
  await expect(page.locator("#log span.line").first()).toHaveText("line 1\n");
  console.log(`log page 1 of 60 (300,000 lines) opened in ${Date.now() - started} ms`);
  await expect(page.locator("#log span.line")).toHaveCount(5000);

  await page.locator('#log-pager a[rel~="next"]').click();
  await expect(page.locator("#log-place")).toHaveText("Lines 5001–10000 of 300000");
  await expect(page.locator("#log span.line").first()).toHaveText("line 5001\n");

  await page.locator('#log-search input[name="log_q"]').fill("line 29999");
  await page.locator("#log-search button").click();
  await expect(page.locator("#log-place")).toContainText("of 11 containing “line 29999”");
  await expect(page.locator("#log span.line")).toHaveCount(11);
  await expect(page.locator("#log span.line").last()).toHaveText("line 299999\n");
});
