// A citizen's and an officer's flow through the typed client generated from openapi/openapi.json.
// Usage: node dist/src/flow.js <base-url> <procedure-code> <receiver> <processor> <password>
import createClient from "openapi-fetch";
import type { components, paths } from "../generated/schema.js";

type Dossier = components["schemas"]["DossierOut"];
type AssignBody = components["schemas"]["AssignIn"];

const [baseUrl, procedureCode, receiver, processor, staffPassword] = process.argv.slice(2);
if (!baseUrl || !procedureCode || !receiver || !processor || !staffPassword) {
  throw new Error("usage: flow.js <base-url> <procedure-code> <receiver> <processor> <password>");
}

const api = createClient<paths>({ baseUrl, headers: { "Accept-Language": "vi" } });

function fail(step: string, error: unknown): never {
  throw new Error(`${step} failed: ${JSON.stringify(error)}`);
}

async function signIn(username: string, password: string): Promise<string> {
  const { data, error } = await api.POST("/api/v1/auth/token", {
    body: { username, password, grant_type: "password", scope: "" },
    bodySerializer: (body) => new URLSearchParams(body as Record<string, string>),
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
  });
  if (!data) fail(`sign-in of ${username}`, error);
  return data.access_token;
}

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

// The citizen: registers, signs in, lodges an online dossier, looks it up with the tracking secret.
const nationalId = String(Date.now()).padStart(12, "0").slice(-12);
const registered = await api.POST("/api/v1/auth/register", {
  body: { national_id: nationalId, full_name: "Trần Thị Bình", password: "Matkhau@2026" },
});
if (!registered.data) fail("registration", registered.error);
const citizen = await signIn(nationalId, "Matkhau@2026");
const lodged = await api.POST("/api/v1/dossiers", {
  headers: bearer(citizen),
  body: { procedure_code: procedureCode, channel: "online", result_delivery: "counter",
          documents: [{ code: "TP01" }, { code: "TP02" }] },
});
if (!lodged.data) fail("lodging", lodged.error);
const { code, tracking_secret: secret } = lodged.data;
const publicView = await api.GET("/api/v1/public/dossiers/{code}", {
  params: { path: { code }, query: { secret } },
});
if (!publicView.data) fail("public lookup", publicView.error);

// The officer: receives the dossier and assigns it, each action through its own typed path.
const officer = await signIn(receiver, staffPassword);
const received = await api.POST("/api/v1/dossiers/{code}/actions/receive", {
  params: { path: { code } }, headers: bearer(officer), body: {},
});
if (!received.data) fail("receive", received.error);
const assignment: AssignBody = { assignee: processor };
const assigned = await api.POST("/api/v1/dossiers/{code}/actions/assign", {
  params: { path: { code } }, headers: { ...bearer(officer), "If-Match": `"${received.data.version}"` },
  body: assignment,
});
if (!assigned.data) fail("assign", assigned.error);
const dossier: Dossier = assigned.data;

// A wrong request is a readable problem: Vietnamese detail, stable field location.
const invalid = await api.POST("/api/v1/auth/register", {
  body: { national_id: "123", full_name: "X", password: "Matkhau@2026" },
});

console.log(JSON.stringify({
  code, public_status: publicView.data.status, received_status: received.data.status,
  status: dossier.status, assignee: dossier.assignee, due_at: dossier.due_at,
  invalid_detail: invalid.error?.detail, invalid_loc: invalid.error?.errors?.[0]?.["loc"],
}));
