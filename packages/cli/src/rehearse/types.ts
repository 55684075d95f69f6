/**
 * What the parts of a rehearsal share: the world the workflows run against (local repositories, a
 * GitHub stand-in, an image registry), the permissions a token carries, and what a step stand-in
 * is given and returns. The engine (engine.ts) owns jobs and steps; the parts here know nothing
 * of workflow files.
 */

/** A GitHub token permission scope's level, as `permissions:` writes it. */
export type PermissionLevel = 'read' | 'write' | 'none';

/** `permissions:` of a job, resolved: every scope GitHub knows, each with its level. */
export type Permissions = Record<string, PermissionLevel>;

/** Every scope `permissions:` can name (GitHub's list). */
export const PERMISSION_SCOPES = [
  'actions',
  'attestations',
  'checks',
  'contents',
  'deployments',
  'discussions',
  'id-token',
  'issues',
  'models',
  'packages',
  'pages',
  'pull-requests',
  'repository-projects',
  'security-events',
  'statuses',
] as const;

export interface TokenGrant {
  /** Who holds the token, for the report: "release-on-tag.yml → release.yml / promote (GITHUB_TOKEN)". */
  holder: string;
  /** The repositories (owner/name) it may touch; undefined is every repository the stand-in serves. */
  repositories?: string[];
  permissions: Permissions;
}

/** A request the GitHub stand-in refused because the token lacked a permission. */
export interface Denial {
  holder: string;
  method: string;
  /** The path asked for, such as /repos/acme/environments/git/refs or /acme/environments.git/git-receive-pack. */
  path: string;
  /** What it needed, such as "contents: write on acme/environments". */
  needed: string;
}

/** A `POST /repos/{owner}/{repo}/actions/workflows/{id}/dispatches` the stand-in accepted. */
export interface WorkflowDispatch {
  repository: string;
  /** The workflow file's name or path as given (`release-on-tag.yml`). */
  workflow: string;
  /** The ref the run is for: a branch or tag name, or a full ref. */
  ref: string;
  inputs: Record<string, string>;
  holder: string;
}

export interface GitHubRelease {
  id: number;
  tag_name: string;
  name: string;
  body: string;
  draft: boolean;
  prerelease: boolean;
  assets: { id: number; name: string; size: number; content_type: string; data: Buffer }[];
}

/**
 * GitHub, on 127.0.0.1: git over smart HTTP (`<serverUrl>/<owner>/<repo>.git`, through the real
 * `git http-backend`) and the REST endpoints the toolkit calls (`<apiUrl>`), both backed by bare
 * repositories on disk, and both checking each token's permissions as GitHub would.
 */
export interface GitHubStandIn {
  /** GITHUB_SERVER_URL, without a trailing slash. */
  serverUrl: string;
  /** GITHUB_API_URL, without a trailing slash. */
  apiUrl: string;
  /** Serves a bare repository as `fullName` (owner/name). */
  addRepository(fullName: string, bareDir: string, options?: { private?: boolean }): void;
  /** A new token carrying the grant. */
  issueToken(grant: TokenGrant): string;
  /** What the token was refused, in order. */
  readonly denials: Denial[];
  /** Called for every accepted workflow dispatch, after the 204 has been sent; returns the way to stop. */
  onDispatch(handler: (dispatch: WorkflowDispatch) => void): () => void;
  /** The releases of a repository, as the API holds them. */
  releases(fullName: string): GitHubRelease[];
  /** The dependency snapshots submitted for a repository, in order. */
  dependencySnapshots(fullName: string): Record<string, unknown>[];
  /**
   * An OIDC token request URL and bearer for one job, as the runner gives a job with
   * `id-token: write` (ACTIONS_ID_TOKEN_REQUEST_URL / _TOKEN); the token's claims are `claims`.
   */
  oidcEndpoint(claims: Record<string, string>): { url: string; token: string };
  close(): Promise<void>;
}

/** Where images are pushed in a rehearsal. */
export interface ImageRegistry {
  /** host:port, as it stands in image references. */
  address: string;
  /** `docker-registry` when the real one runs, `stand-in` for the in-process one. */
  kind: 'docker-registry' | 'stand-in';
  close(): Promise<void>;
}

/** What a rehearsal has to run against; made once per rehearsal (see world.ts). */
export interface RehearsalWorld {
  github: GitHubStandIn;
  /** Local bare repositories by owner/name. */
  repositories: Map<string, { bareDir: string; defaultBranch: string; private: boolean }>;
  /** The toolkit repository as workflows name it (`acme/toolkit`), and its local clone. */
  toolkit: { repository: string; dir: string };
  registry?: ImageRegistry;
  /** A Docker engine the build stand-in may use (DOCKER_HOST); absent where none runs. */
  dockerHost?: string;
  /** The Node binary toolkit actions run under (Node 24 where installed). */
  node: string;
  /** PATH entries put before the machine's for every step (replay shims of trivy, syft, cosign). */
  extraPath: string[];
  /** Each part that stood in for a missing real one, said in the report: "registry: in-process stand-in". */
  standIns: string[];
  /** Temporary files of the rehearsal live below this. */
  scratch: string;
}

/** What a third-party action's stand-in is given for one step. */
export interface StepContext {
  world: RehearsalWorld;
  /** `uses:` as written, such as actions/checkout@11bd… */
  uses: string;
  /** `with:`, evaluated. */
  inputs: Record<string, string>;
  /** The step's environment: the runner's GITHUB_* variables, the job's and step's `env:`. */
  env: Record<string, string>;
  /** GITHUB_WORKSPACE. */
  workspace: string;
  /** The job's token (github.token) and its grant. */
  token: string;
  grant: TokenGrant;
  /** The repository the workflow run belongs to (owner/name) and its commit. */
  repository: string;
  sha: string;
  ref: string;
  log(line: string): void;
  /** Registers a secret: masked in the log and summaries from now on. */
  mask(value: string): void;
}

export interface StepResult {
  outputs: Record<string, string>;
  /** Exit status: 0 is success. */
  exitCode: number;
  /** What the step appended to the job summary (Markdown). */
  summary?: string;
  /** Variables exported to later steps (GITHUB_ENV). */
  env?: Record<string, string>;
  /** PATH entries added for later steps (GITHUB_PATH). */
  path?: string[];
}

/** A stand-in for a third-party action: does the same job against local parts. */
export interface StandIn {
  /** `owner/name` (or owner/name/path) it stands in for, without @ref. */
  action: string;
  /** One line for the report: what it does here instead. */
  description: string;
  run(context: StepContext): Promise<StepResult>;
}
