import { execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { test, expect } from "../fixtures";

const JOB = `apiVersion: batch/v1
kind: Job
spec:
  template:
    spec:
      containers:
        - name: main
          image: bash
          command: ["/bin/bash", "-c"]
          args: ["echo hello"]
      restartPolicy: Never
`;

// A Git repository in a temp dir (the test's own fixture; k8x itself reads it with libgit2).
function repository(): { path: string; service: (dir: string, name: string) => void; commit: (message: string) => void } {
  const path = mkdtempSync(join(tmpdir(), "k8x-e2e-repo-"));
  const git = (...args: string[]) =>
    execFileSync("git", ["-c", "user.name=E2E", "-c", "user.email=e2e@example.com", ...args], { cwd: path });
  git("init", "--quiet", "--initial-branch=main");
  return {
    path,
    service: (dir, name) => {
      mkdirSync(join(path, dir), { recursive: true });
      writeFileSync(join(path, dir, "manifest.json"), JSON.stringify({ name, type: "k8x_job", trigger_events: [`e2e.${name}`] }));
      writeFileSync(join(path, dir, "deployment.yaml"), JOB);
    },
    commit: (message) => {
      git("add", "--all");
      git("commit", "--quiet", "-m", message);
    },
  };
}

test("an admin creates a project from a local repository, sees its first sync, and syncs a new commit", async ({ page }) => {
  const repo = repository();
  const stamp = Date.now();
  const first = `git-first-${stamp}`;
  const second = `git-second-${stamp}`;
  repo.service("first", first);
  repo.commit("first service");

  await page.goto("/projects");
  const form = page.locator("#add-project");
  await form.locator("input[name=name]").fill(`e2e-${stamp}`);
  await form.locator("select[name=source]").selectOption("git");
  await form.locator("input[name=url]").fill(repo.path);
  await form.locator("input[name=branch]").fill("main");
  await form.getByRole("button", { name: "Add and sync" }).click();

  await expect(page).toHaveURL(new RegExp(`/projects/e2e-${stamp}$`));
  await expect(page.locator("#project-source")).toContainText(repo.path);
  await expect(page.locator("#project-services")).toContainText(first);
  await expect(page.locator("#syncs .sync-result").first()).toHaveText("ok");
  await expect(page.locator("#syncs")).toContainText("first service");
  await expect(page.locator("#webhook-path")).toHaveText("/api/v1/git/push");
  await expect(page.locator("#webhook-secret")).not.toBeEmpty();

  repo.service("second", second);
  repo.commit("second service");
  await page.locator("#sync-now").getByRole("button", { name: "Sync now" }).click();
  await expect(page.locator("#sync-result")).toHaveText("Synced: ok");
  await expect(page.locator("#project-services")).toContainText(second);
  await expect(page.locator("#syncs")).toContainText(`Added: ${second}`);

  await page.goto("/projects");
  await expect(page.locator("#projects")).toContainText(`e2e-${stamp}`);
  await page.goto(`/services/${second}`);
  await expect(page.locator("#revision")).not.toBeEmpty();
});

test("an admin uploads an archive of services to an archive project from its page", async ({ page, api }) => {
  const stamp = Date.now();
  const created = await api.post("/api/v1/projects", { data: { name: `bundle-${stamp}`, archive: true } });
  expect(created.status()).toBe(201);
  const dir = mkdtempSync(join(tmpdir(), "k8x-e2e-archive-"));
  const service = `from-archive-${stamp}`;
  mkdirSync(join(dir, "svc"));
  writeFileSync(join(dir, "svc", "manifest.json"), JSON.stringify({ name: service, type: "k8x_job" }));
  writeFileSync(join(dir, "svc", "deployment.yaml"), JOB);
  const archive = join(dir, "services.tar.gz");
  execFileSync("tar", ["-czf", archive, "-C", dir, "svc"]);

  await page.goto(`/projects/bundle-${stamp}`);
  await page.locator("#archive").setInputFiles(archive);
  await page.locator("#upload-archive").getByRole("button", { name: "Upload" }).click();
  await expect(page.locator("#upload-result")).toHaveText("Uploaded: ok");
  await expect(page.locator("#project-services")).toContainText(service);
  await expect(page.locator("#syncs .sync-result").first()).toHaveText("ok");

  // Not an archive: refused, said so on the page.
  writeFileSync(join(dir, "notes.txt"), "just text");
  await page.locator("#archive").setInputFiles(join(dir, "notes.txt"));
  await page.locator("#upload-archive").getByRole("button", { name: "Upload" }).click();
  await expect(page.locator("#upload-error")).toContainText("not a .tar.gz or .zip archive");
});
