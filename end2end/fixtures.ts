import { test as base, expect, request as requests, APIRequestContext } from "@playwright/test";

// What serve.sh starts k8x with: the first admin's password and an admin token for scripted calls.
export const ADMIN_PASSWORD = "e2e-admin-password";
export const ADMIN_TOKEN = "k8x_e2e_bootstrap_token_0123456789abcdef";

// `page` is signed in as admin (global-setup.ts); `api` calls the API with the admin token, as a script would.
export const test = base.extend<{ api: APIRequestContext }>({
  api: async ({ baseURL }, use) => {
    const api = await requests.newContext({
      baseURL,
      extraHTTPHeaders: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    await use(api);
    await api.dispose();
  },
});

export { expect };
