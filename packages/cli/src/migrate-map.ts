/**
 * What each anchor's inputs and outputs become in this toolkit: the one description that `toolkit
 * migrate` rewrites steps with, docs/migrating.md is generated from (by `toolkit catalog`), and the
 * conformance test checks against the anchors' real action.yml files.
 */

import { PINNED_TOOLS, type ToolName } from '@toolkit/shared';

/** What an anchor's input or output is here. */
export type Counterpart =
  /** This input or output here (the value as it is, unless `note` says how it changes). */
  | { to: string; note?: string; derived?: true }
  /** Nothing here: why, and what to do instead. Given with a value other than `default`, it is reported as not mapped. */
  | { none: string; default?: string; blocks?: boolean }
  /** Nothing needed here: why. Dropped with a note. */
  | { ignored: string };

export interface Rewritten {
  /** The rewritten step's inputs, in this toolkit's names. */
  with: Record<string, string>;
  /** Inputs given that could not be mapped, with why. */
  unmapped: { input: string; reason: string }[];
  /** What changed in meaning, for the report. */
  notes: string[];
  /** Set when the step cannot be rewritten at all (it is left as it is): why. */
  blocked?: string;
}

export interface AnchorMap {
  /** `owner/name` as `uses:` names it. */
  anchor: string;
  /** Its action.yml in ../shared/fixtures/anchor-workflows. */
  fixture: string;
  /** This toolkit's action it becomes. */
  action: string;
  summary: string;
  inputs: Record<string, Counterpart>;
  outputs: Record<string, Counterpart>;
  /** Inputs the rewrite decides from several anchor inputs at once (see `special`), beyond the table. */
  special?: (given: Readonly<Record<string, string>>, out: Rewritten) => void;
  /** Inputs set on every rewritten step, so that it behaves as the anchor's did by default. */
  keep?: Record<string, { value: string; why: string }>;
  /**
   * Inputs whose value (not only whether it is given) decides what the rewritten step gets. An
   * expression there (`${{ … }}`) has its value only when the workflow runs, so such a step is
   * left as it is and reported, never rewritten from the expression's text.
   */
  reads?: readonly string[];
}

/** Leaves the step as it is when `name`'s value is an expression the rewrite would have to read. */
function expressionBlocks(
  given: Readonly<Record<string, string>>,
  name: string,
  out: Rewritten,
  decides = 'how the step is rewritten',
): boolean {
  const value = given[name];
  if (value === undefined || !value.includes('${{')) return false;
  out.blocked ??= `${name}: ${value} is an expression, whose value is known only when the workflow runs, and it decides ${decides}; the step is left as it is: rewrite it by hand (docs/migrating.md).`;
  return true;
}

/**
 * A tool version carried over, when this toolkit pins it; otherwise dropped and reported: a version
 * not pinned here would stop the step until its SHA-256 is given (`<tool>-sha256`), which migrate
 * cannot know. The pinned default is used instead.
 */
function pinnedVersion(tool: ToolName, input: string, value: string, out: Rewritten): void {
  const version = value.trim().replace(/^v/, '');
  const target = `${tool}-version`;
  if (version === '' || version === 'latest') {
    delete out.with[target];
    if (version === 'latest') out.notes.push(`${input}: latest becomes the ${tool} pinned here (${PINNED_TOOLS[tool].version}).`);
    return;
  }
  if (version === PINNED_TOOLS[tool].version) {
    out.with[target] = version;
    return;
  }
  delete out.with[target];
  out.unmapped.push({
    input,
    reason: `${tool} ${version} is not pinned here, so it would need ${tool}-sha256 (its release's SHA-256); the pinned ${PINNED_TOOLS[tool].version} is used instead. Set ${target} and ${tool}-sha256 to keep ${version}.`,
  });
}

const SEVERITY_ORDER = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'UNKNOWN'];

/** The lowest of the severities listed (trivy-action with exit-code fails on any finding it reports). */
function lowestSeverity(list: string): string {
  const listed = list
    .split(/[\s,]+/)
    .map((item) => item.toUpperCase())
    .filter((item) => SEVERITY_ORDER.includes(item));
  if (listed.length === 0) return 'unknown';
  return (SEVERITY_ORDER[Math.max(...listed.map((item) => SEVERITY_ORDER.indexOf(item)))] as string).toLowerCase();
}

const isTrue = (value: string | undefined) => /^true$/i.test(value ?? '');

/** Whether two values are the same list (`library,os` is `os,library`); a single value is a list of one. */
function sameList(value: string, expected: string): boolean {
  const items = (text: string) => [...new Set(text.split(/[\s,]+/).filter(Boolean))].sort().join(',');
  return items(value) === items(expected);
}

export const TRIVY_ACTION: AnchorMap = {
  anchor: 'aquasecurity/trivy-action',
  fixture: 'trivy-action.action.yml',
  action: 'scan',
  summary:
    'trivy-action runs Trivy in the format asked for (a table by default) and never fails unless exit-code is set. scan runs Trivy once, writes the JSON report, the SARIF and the table in the log from it, and judges with fail-on; a rewritten step gets fail-on: none unless exit-code was set, so it fails where it failed before.',
  inputs: {
    'scan-type': {
      none: 'scan scans container images only; fs, repo, rootfs, config and sbom scans have no counterpart (the step is left as it is).',
      default: 'image',
      blocks: true,
    },
    'image-ref': { to: 'image', note: 'image-ref is also accepted as an alias of image.' },
    input: {
      none: 'scan takes an image reference, not a tar archive (docker load it and scan the loaded image).',
      default: '',
      blocks: true,
    },
    'scan-ref': { ignored: 'the target of fs/repo scans, which scan does not do; unused by image scans.' },
    'exit-code': {
      to: 'fail-on',
      note: 'a non-zero exit-code becomes fail-on: the lowest severity of severity (unknown when severity is empty); none or 0 becomes fail-on: none. Trivy’s exit code also fired on secrets and misconfigurations; fail-on judges vulnerabilities only (reported).',
      derived: true,
    },
    'ignore-unfixed': { to: 'ignore-unfixed' },
    'vuln-type': {
      none: 'scan reports OS and library packages alike (Trivy’s default, os,library in any order); there is no pkg-types input, so a step that scans only one of them is left as it is.',
      default: 'os,library',
      blocks: true,
    },
    severity: { to: 'severity', note: 'upper or lower case alike.' },
    format: {
      to: 'sarif-file',
      note: 'sarif (or template with @/contrib/sarif.tpl) writes output as sarif-file, json as report-file, cyclonedx or spdx-json as sbom-file (made by Syft), github with github-pat submits to the dependency graph (dependency-snapshot; without github-pat trivy-action submitted nothing, and neither does scan); table is always in the log. Other formats and templates have no counterpart.',
      derived: true,
    },
    template: { to: 'sarif-file', note: 'only @/contrib/sarif.tpl, whose SARIF scan writes itself.', derived: true },
    output: {
      to: 'sarif-file',
      note: 'report-file or sbom-file as format says; a table written to a file has no counterpart (it is in the log).',
      derived: true,
    },
    'skip-dirs': { to: 'skip-dirs' },
    'skip-files': { to: 'skip-files' },
    'cache-dir': {
      ignored:
        'scan keeps Trivy’s cache in the runner’s tool cache and caches the vulnerability DB with the Actions cache itself (db-cache).',
    },
    timeout: { to: 'timeout' },
    'ignore-policy': {
      none: 'there is no Rego policy input; list what to ignore in ignore-file (.trivyignore or .trivyignore.yaml).',
      default: '',
    },
    'hide-progress': { ignored: 'scan always runs Trivy with --quiet.' },
    'list-all-pkgs': { none: 'the JSON report lists vulnerable packages; every package is in the SBOM (sbom-format).', default: 'false' },
    scanners: { to: 'scanners' },
    trivyignores: { to: 'ignore-file', note: 'a comma-separated list there and here; trivyignores is also accepted as an alias.' },
    'github-pat': { to: 'token', note: 'used for the dependency submission API (dependency-snapshot).' },
    'trivy-config': { to: 'trivy-config' },
    'tf-vars': { none: 'Terraform scans are not scan’s.', default: '' },
    'limit-severities-for-sarif': {
      to: 'limit-severities-for-sarif',
      note: 'its default is true here and false (unset) there, where only format: sarif drops severity (the sarif template keeps it); a format: sarif step with severity and without it gets limit-severities-for-sarif: false; with exit-code, Trivy there failed on any severity, and scan fails on those of severity (reported).',
    },
    'docker-host': { none: 'set DOCKER_HOST in the step’s env instead; Trivy and Syft read it.', default: '' },
    version: {
      to: 'trivy-version',
      note: 'kept when it is the version pinned here; another needs trivy-sha256, so migrate uses the pinned one and says so.',
      derived: true,
    },
    cache: { to: 'db-cache' },
    'skip-setup-trivy': { to: 'trivy-version', note: 'true becomes trivy-version: system (the trivy on PATH).', derived: true },
    'token-setup-trivy': { ignored: 'scan downloads Trivy from its release and checks its pinned SHA-256; no token is needed.' },
  },
  outputs: {},
  reads: ['exit-code', 'format', 'template', 'limit-severities-for-sarif', 'version', 'skip-setup-trivy'],
  keep: {
    'sbom-format': { value: 'none', why: 'trivy-action makes no SBOM unless its format asks for one, so Syft is not run' },
  },
  special(given, out) {
    if (!given['image-ref'] && !out.blocked) out.blocked = 'no image-ref: there is no image for scan to scan.';
    const format = (given.format ?? 'table').toLowerCase();
    const output = given.output ?? '';
    const template = given.template ?? '';
    const sarif = format === 'sarif' || (format === 'template' && /(^|\/)sarif\.tpl$/.test(template));
    // trivy-action drops severity (unset TRIVY_SEVERITY) only for format: sarif without
    // limit-severities-for-sarif: true; the sarif template keeps it, as scan's default does.
    const allSeverities = format === 'sarif' && !isTrue(given['limit-severities-for-sarif']);
    if (sarif) {
      if (output) out.with['sarif-file'] = output;
      if (given.severity && allSeverities) {
        out.with['limit-severities-for-sarif'] = 'false';
        out.notes.push(
          'limit-severities-for-sarif: false keeps every severity in the SARIF, as trivy-action wrote it; the counts and the verdict follow severity.',
        );
      }
    } else if (format === 'json') {
      if (output) out.with['report-file'] = output;
    } else if (format === 'cyclonedx' || format === 'spdx-json') {
      out.with['sbom-format'] = format === 'cyclonedx' ? 'cyclonedx-json' : 'spdx-json';
      if (output) out.with['sbom-file'] = output;
      out.notes.push(`the ${format} SBOM is made by Syft here, not by Trivy.`);
    } else if (format === 'github') {
      if (given['github-pat']) {
        out.with['sbom-format'] = 'spdx-json';
        out.with['dependency-snapshot'] = 'true';
      } else
        // trivy-action submitted only with github-pat; without, it printed a warning and the step passed.
        // github.token would be refused (403) where the dependency graph needs contents: write.
        out.unmapped.push({
          input: 'format',
          reason:
            'github without github-pat: trivy-action submitted nothing then (it printed a warning). To submit the dependency graph, give sbom-format: spdx-json, dependency-snapshot: true and a token with contents: write.',
        });
      if (output)
        out.unmapped.push({
          input: 'output',
          reason: 'the github format is submitted to the dependency graph here, not written to a file.',
        });
    } else if (format === 'table') {
      if (output) out.unmapped.push({ input: 'output', reason: 'the table goes to the log here; the JSON report is report-file.' });
    } else {
      out.unmapped.push({
        input: given.template ? 'template' : 'format',
        reason: `${given.template ? `the template ${given.template}` : `the format ${format}`} has no counterpart: scan writes the JSON report (report-file), the SARIF (sarif-file) and the table in the log.`,
      });
      if (output) out.unmapped.push({ input: 'output', reason: `written in ${format} there; no counterpart here.` });
    }
    const exitCode = given['exit-code'] ?? '';
    if (exitCode === '' || exitCode === '0') out.with['fail-on'] = 'none';
    else if (!expressionBlocks(given, 'severity', out, 'fail-on (the lowest severity listed, with exit-code)')) {
      out.with['fail-on'] = lowestSeverity(given.severity ?? '');
      // Trivy's exit code fires on secrets and misconfigurations too; scan's verdict is of vulnerabilities.
      const scanners = (given.scanners || 'vuln,secret').toLowerCase().split(/[\s,]+/);
      const others = ['secret', 'misconfig'].filter((scanner) => scanners.includes(scanner));
      if (!out.blocked && others.length > 0)
        out.notes.push(
          `exit-code also failed trivy-action on ${others.map((scanner) => (scanner === 'secret' ? 'secrets' : 'misconfigurations')).join(' and ')} found (Trivy’s scanners ${given.scanners ? given.scanners : 'default to vuln,secret'}); scan’s fail-on judges vulnerabilities only: they are in the report, the SARIF and the summary, but do not fail the step.`,
        );
      // Without TRIVY_SEVERITY, Trivy's exit code fired on a finding of any severity; scan judges severity's.
      if (allSeverities && given.severity)
        out.notes.push(
          `trivy-action with format: sarif ignored severity for its exit code too and failed on a finding of any severity; scan fails on ${given.severity} (fail-on: ${out.with['fail-on']}) only. Remove severity to fail on any.`,
        );
    }
    if (given.version !== undefined) pinnedVersion('trivy', 'version', given.version, out);
    if (isTrue(given['skip-setup-trivy'])) out.with['trivy-version'] = 'system';
  },
};

export const SBOM_ACTION: AnchorMap = {
  anchor: 'anchore/sbom-action',
  fixture: 'sbom-action.action.yml',
  action: 'scan',
  summary:
    'sbom-action runs Syft and uploads the SBOM as an artifact. scan runs Syft on tools whose SHA-256 is pinned, and Trivy with it; a rewritten step gets fail-on: none, so vulnerabilities do not fail it, as they did not before.',
  inputs: {
    path: {
      ignored:
        'sbom-action scans this directory only when no image is given; a step without image is left as it is, since scan makes the SBOM of an image.',
    },
    file: { none: 'scan makes the SBOM of an image; a file has no counterpart (the step is left as it is).', default: '', blocks: true },
    image: { to: 'image' },
    'registry-username': { none: 'log in with docker/login-action before the step: Syft and Trivy use Docker’s credentials.', default: '' },
    'registry-password': { none: 'log in with docker/login-action before the step: Syft and Trivy use Docker’s credentials.', default: '' },
    format: {
      to: 'sbom-format',
      note: 'spdx-json and cyclonedx-json; other formats have no counterpart (the step is left as it is).',
      derived: true,
    },
    'github-token': { to: 'token' },
    'artifact-name': {
      to: 'sbom-artifact',
      note: 'without output-file, also sbom-file: the file in the artifact is named after it, as sbom-action’s was.',
      derived: true,
    },
    'output-file': { to: 'sbom-file' },
    'syft-version': {
      to: 'syft-version',
      note: 'kept when it is the version pinned here; another needs syft-sha256, so migrate uses the pinned one and says so.',
      derived: true,
    },
    'dependency-snapshot': { to: 'dependency-snapshot' },
    'upload-artifact': {
      to: 'sbom-artifact',
      note: 'false gives no sbom-artifact; true (the default) uploads it as artifact-name, or sbom.spdx.json / sbom.cdx.json.',
      derived: true,
    },
    'upload-artifact-retention': { to: 'sbom-artifact-retention-days' },
    'upload-release-assets': { none: 'scan does not touch releases: publish-release attaches the SBOM to the release.', default: 'true' },
    config: { none: 'there is no Syft configuration file input.', default: '' },
  },
  outputs: {},
  reads: ['format', 'upload-artifact', 'syft-version'],
  keep: {
    'fail-on': { value: 'none', why: 'sbom-action does not judge vulnerabilities' },
  },
  special(given, out) {
    if (!given.image && !out.blocked)
      out.blocked = 'no image: sbom-action then makes the SBOM of the directory (path, . by default), and scan makes the SBOM of an image.';
    const format = given.format ?? 'spdx-json';
    if (format !== 'spdx-json' && format !== 'cyclonedx-json') {
      out.blocked ??= `format ${format} has no counterpart: scan writes spdx-json or cyclonedx-json.`;
    }
    out.with['sbom-format'] = format;
    if (!/^false$/i.test(given['upload-artifact'] ?? 'true')) {
      out.with['sbom-artifact'] = given['artifact-name'] || (format === 'cyclonedx-json' ? 'sbom.cdx.json' : 'sbom.spdx.json');
      // sbom-action wrote the SBOM as a file named after the artifact (unless output-file named it), so
      // a later download-artifact finds image.spdx.json in it; scan uploads sbom-file under its own name.
      if (!given['output-file']) out.with['sbom-file'] = out.with['sbom-artifact'];
      if (!given['artifact-name'])
        out.notes.push(
          `sbom-action named its artifact after the repository and job; it is ${out.with['sbom-artifact']} here. Set sbom-artifact if a later job downloads it by name.`,
        );
    }
    if (given['upload-artifact-retention'] === '0') delete out.with['sbom-artifact-retention-days'];
    if (given['syft-version'] !== undefined) pinnedVersion('syft', 'syft-version', given['syft-version'], out);
    // Its default: nothing in with: says it, and yet a release event got the SBOM as an asset.
    if (!/^false$/i.test(given['upload-release-assets'] ?? 'true'))
      out.notes.push(
        'on a release event sbom-action also attached the SBOM to the release; scan does not (publish-release attaches release assets here).',
      );
  },
};

export const GITHUB_TAG_ACTION: AnchorMap = {
  anchor: 'mathieudutour/github-tag-action',
  fixture: 'github-tag-action.action.yml',
  action: 'semantic-tag',
  summary:
    'github-tag-action tags through the API from the last 100 tags. semantic-tag reads the whole history and every tag in the checkout, and pushes the tag with git (the checkout must be there: actions/checkout before it).',
  inputs: {
    github_token: { to: 'token' },
    default_bump: {
      to: 'default-bump',
      note: 'patch and minor; there it is the bump when no commit gives one, here the bump of a commit that is not a Conventional Commit, so a rewritten step also gets release-rules giving build, chore, ci, docs, refactor, style and test that bump (other types still give none; with minor, a fix and a chore together are minor here, patch there). false becomes none; major has no counterpart.',
      derived: true,
    },
    default_prerelease_bump: {
      none: 'pre-releases are numbered here (prerelease: rc gives 1.3.0-rc.1, rc.2, …) from the commits’ bump.',
      default: 'prerelease',
    },
    tag_prefix: { to: 'tag-prefix' },
    append_to_pre_release_tag: {
      none: 'give the pre-release identifier as prerelease (e.g. rc) on the job for those branches.',
      default: '',
    },
    custom_tag: {
      none: 'semantic-tag computes the version; to push a tag of your own, use git (the step is left as it is).',
      default: '',
      blocks: true,
    },
    custom_release_rules: {
      to: 'release-rules',
      note: 'type:bump and type:bump:section read as there; pre-release bumps (preminor, …) have no counterpart.',
    },
    release_branches: {
      to: 'dry-run',
      note: 'semantic-tag tags wherever it runs, so a rewritten step gets dry-run: true except on those branches (master,main when not given), as a condition on github.ref; a pattern (release.*) cannot be written as one, and leaves the step as it is.',
      derived: true,
    },
    pre_release_branches: { none: 'set prerelease (e.g. rc) on a job that runs on those branches.', default: '' },
    commit_sha: { none: 'semantic-tag tags HEAD of repository-path: check out that commit first.', default: '' },
    create_annotated_tag: {
      to: 'annotate',
      note: 'the default is true here and false there: a rewritten step gets annotate: false unless it asked for annotated tags.',
      derived: true,
    },
    fetch_all_tags: { ignored: 'semantic-tag always reads every tag.' },
    dry_run: { to: 'dry-run', note: 'true stays true; otherwise dry-run is the release_branches condition.', derived: true },
  },
  outputs: {
    new_tag: { to: 'tag' },
    new_version: { to: 'version' },
    previous_tag: { to: 'previous-tag', note: 'empty when there is no release yet (0.0.0 there).' },
    previous_version: { to: 'previous-version', note: 'empty when there is no release yet (0.0.0 there).' },
    release_type: { to: 'bump', note: 'major, minor, patch or none; a pre-release is the prerelease input’s, not a pre-prefixed type.' },
    changelog: { to: 'changelog', note: 'Markdown grouped into Breaking changes, Features, Fixes, the rules’ sections and Other changes.' },
  },
  reads: ['default_bump', 'create_annotated_tag', 'release_branches', 'dry_run', 'custom_release_rules'],
  keep: {
    'default-bump': { value: 'patch', why: 'github-tag-action bumps patch by default when no commit says otherwise' },
    annotate: { value: 'false', why: 'github-tag-action makes lightweight tags by default' },
  },
  special(given, out) {
    const bump = (given.default_bump ?? 'patch').toLowerCase();
    if (bump === 'false') out.with['default-bump'] = 'none';
    else if (bump === 'patch' || bump === 'minor') out.with['default-bump'] = bump;
    else {
      delete out.with['default-bump'];
      out.unmapped.push({ input: 'default_bump', reason: `${bump} has no counterpart: default-bump is none, patch or minor.` });
    }
    if (given.create_annotated_tag !== undefined) out.with.annotate = isTrue(given.create_annotated_tag) ? 'true' : 'false';
    // github-tag-action computes a version everywhere but tags only on its release branches.
    const branches = (given.release_branches ?? 'master,main')
      .split(',')
      .map((branch) => branch.trim())
      .filter(Boolean);
    if (isTrue(given.dry_run)) out.with['dry-run'] = 'true';
    else if (branches.some((branch) => !/^[\w./-]+$/.test(branch) || branch.includes('..') || /\.[*+?]/.test(branch))) {
      out.blocked ??= `release_branches ${given.release_branches ?? ''} has patterns, which a workflow condition cannot test, and semantic-tag tags wherever it runs: run the job only on those branches, then give release_branches the branch names (or remove it).`;
    } else {
      const refs = JSON.stringify(branches.map((branch) => `refs/heads/${branch}`));
      out.with['dry-run'] = `\${{ !contains(fromJSON('${refs}'), github.ref) }}`;
      out.notes.push(
        `dry-run is true except on ${branches.join(', ')} (release_branches${given.release_branches === undefined ? '’ default' : ''}): github-tag-action tagged only there.`,
      );
    }
    const rules = given.custom_release_rules ?? '';
    const pre = rules.split(',').filter((rule) => /:\s*pre(major|minor|patch|release)\b/.test(rule));
    if (pre.length > 0) {
      out.with['release-rules'] = rules
        .split(',')
        .filter((rule) => !pre.includes(rule))
        .join(',');
      out.unmapped.push({
        input: 'custom_release_rules',
        reason: `${pre.map((rule) => rule.trim()).join(', ')}: pre-release bumps have no counterpart (use prerelease).`,
      });
      if (!out.with['release-rules']) delete out.with['release-rules'];
    }
    defaultBumpRules(out);
  },
};

/** The Conventional Commit types that give no bump of their own (semantic-release's default rules). */
const NON_BUMPING_TYPES = ['build', 'chore', 'ci', 'docs', 'refactor', 'style', 'test'];

/**
 * github-tag-action's default_bump is the release's bump when no commit gives one (a push of chore
 * and docs commits releases a patch); semantic-tag's default-bump is the bump of a commit that is
 * not a Conventional Commit. The types that give no bump get release rules at that bump, unless the
 * step's own rules name them, and what still differs is said.
 */
function defaultBumpRules(out: Rewritten): void {
  const bump = out.with['default-bump'];
  if (bump !== 'patch' && bump !== 'minor') return;
  const rules = (out.with['release-rules'] ?? '')
    .split(/[,\n]/)
    .map((rule) => rule.trim())
    .filter(Boolean);
  const named = new Set(
    rules.map((rule) =>
      (rule.split(':')[0] ?? '')
        .replace(/\(.*\)$/, '')
        .trim()
        .toLowerCase(),
    ),
  );
  const added = NON_BUMPING_TYPES.filter((type) => !named.has(type));
  if (added.length === 0) return;
  out.with['release-rules'] = [...rules, ...added.map((type) => `${type}:${bump}`)].join(',');
  out.notes.push(
    `default_bump ${bump}: github-tag-action released a ${bump} when no commit gave a bump (e.g. chore or docs commits only); here default-bump is the bump of a commit that is not a Conventional Commit, so release-rules also give ${added.join(', ')} commits a ${bump}. Still different: a Conventional Commit of another type (e.g. wip:) gives no bump here${bump === 'minor' ? '; and a push with a fix and a chore is a minor release here (the chore’s), where github-tag-action released a patch (the fix’s)' : ''}.`,
  );
}

export const COSIGN_INSTALLER: AnchorMap = {
  anchor: 'sigstore/cosign-installer',
  fixture: 'cosign-installer.action.yml',
  action: 'sign',
  summary:
    'cosign-installer only installs cosign; the signing is a `run: cosign sign …` step after it. migrate rewrites that run step into sign (which installs cosign itself, on a pinned SHA-256, signs by digest and verifies) and removes the installer when no other step runs cosign.',
  inputs: {
    'cosign-release': {
      to: 'cosign-version',
      note: 'cosign-release is also accepted as an alias. Kept when it is the version pinned here; another needs cosign-sha256, so migrate uses the pinned one and says so.',
      derived: true,
    },
    'install-dir': { ignored: 'sign installs cosign into the runner’s tool cache itself.' },
    'use-sudo': { ignored: 'sign installs cosign into the runner’s tool cache, which needs no sudo.' },
  },
  outputs: {},
  reads: ['cosign-release'],
  special(given, out) {
    if (given['cosign-release'] !== undefined) pinnedVersion('cosign', 'cosign-release', given['cosign-release'], out);
  },
};

export const ANCHORS: readonly AnchorMap[] = [TRIVY_ACTION, SBOM_ACTION, GITHUB_TAG_ACTION, COSIGN_INSTALLER];

/** The anchor a `uses:` value names (`owner/name@ref`), if any. */
export function anchorOf(uses: string): AnchorMap | undefined {
  const name = uses.split('@')[0]?.toLowerCase();
  return ANCHORS.find((anchor) => anchor.anchor === name);
}

/** An anchor step's inputs (`with:`), in this toolkit's names, with what could not be mapped. */
export function rewriteInputs(anchor: AnchorMap, given: Readonly<Record<string, string>>): Rewritten {
  const out: Rewritten = { with: {}, unmapped: [], notes: [] };
  for (const [name, value] of Object.entries(given)) {
    const counterpart = anchor.inputs[name];
    if (!counterpart) {
      out.unmapped.push({ input: name, reason: `${anchor.anchor} has no input ${name} (it is ignored there too).` });
    } else if ('to' in counterpart) {
      if (!counterpart.derived) out.with[counterpart.to] = value;
    } else if ('none' in counterpart) {
      if (counterpart.default !== undefined && sameList(value, counterpart.default)) continue;
      if (counterpart.blocks) out.blocked = `${name}: ${value}: ${counterpart.none}`;
      out.unmapped.push({ input: name, reason: counterpart.none });
    } else {
      out.notes.push(`${name} is dropped: ${counterpart.ignored}`);
    }
  }
  const asked = new Set(
    Object.keys(given).flatMap((name) => {
      const counterpart = anchor.inputs[name];
      return counterpart && 'to' in counterpart ? [counterpart.to] : [];
    }),
  );
  for (const [name, kept] of Object.entries(anchor.keep ?? {})) {
    // Kept as the anchor's default only where the step did not ask for something itself.
    if (out.with[name] === undefined && !asked.has(name)) {
      out.with[name] = kept.value;
      out.notes.push(`${name}: ${kept.value}, since ${kept.why}.`);
    }
  }
  for (const name of anchor.reads ?? []) expressionBlocks(given, name, out);
  anchor.special?.(given, out);
  // A default kept above that the anchor's special then decided otherwise is not said twice.
  out.notes = out.notes.filter((note) => {
    const kept = Object.entries(anchor.keep ?? {}).find(([name, value]) => note.startsWith(`${name}: ${value.value},`));
    return !kept || out.with[kept[0]] === kept[1].value;
  });
  return out;
}

/** docs/migrating.md, whole: one table per anchor, every input and output. */
export function renderMigratingDoc(): string {
  const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
  const row = (name: string, counterpart: Counterpart) => {
    if ('to' in counterpart) return `| \`${name}\` | \`${counterpart.to}\` | ${cell(counterpart.note ?? '')} |`;
    if ('none' in counterpart) return `| \`${name}\` | — | ${cell(counterpart.none)} |`;
    return `| \`${name}\` | — (not needed) | ${cell(counterpart.ignored)} |`;
  };
  const parts = [
    '# Migrating from trivy-action, sbom-action, github-tag-action and cosign-installer',
    '',
    '<!-- Generated by `toolkit catalog` from packages/cli/src/migrate-map.ts, the table `toolkit migrate` rewrites with. Do not edit by hand. -->',
    '',
    '`toolkit migrate <workflow file>…` rewrites the steps that use these actions into this toolkit’s, in place, keeping the',
    'file’s comments and layout, and prints what it changed and what it could not map; `--check` only reports. The rewritten',
    'file passes `toolkit validate`. A step with something that has no counterpart and changes what the step does (a',
    'directory scan, a custom tag, a `cosign sign` flag sign does not have) is left as it is and reported, and so is one',
    'where an input whose value decides the rewrite (`exit-code`, `format`, `dry_run`, `default_bump`, …) is an expression',
    '(`${{ … }}`), whose value is known only when the workflow runs.',
    '',
    'The anchors’ own names are also accepted by hand where they mean the same: `image-ref` and `trivyignores` (scan),',
    '`cosign-release` (sign). Giving an alias and its own name both is refused. semantic-tag reads `custom_release_rules`',
    'values (`type:bump:section`) as `release-rules`, and `default-bump: minor`.',
    '',
  ];
  for (const anchor of ANCHORS) {
    parts.push(`## ${anchor.anchor} → ${anchor.action}`, '', anchor.summary, '');
    if (anchor.keep) {
      parts.push(
        `A rewritten step also gets ${Object.entries(anchor.keep)
          .map(([name, kept]) => `\`${name}: ${kept.value}\` (${kept.why})`)
          .join(', ')}.`,
        '',
      );
    }
    parts.push('### Inputs', '', `| ${anchor.anchor} | ${anchor.action} | Notes |`, '| --- | --- | --- |');
    for (const [name, counterpart] of Object.entries(anchor.inputs)) parts.push(row(name, counterpart));
    parts.push('', '### Outputs', '');
    if (Object.keys(anchor.outputs).length === 0) parts.push(`${anchor.anchor} has no outputs.`, '');
    else {
      parts.push(`| ${anchor.anchor} | ${anchor.action} | Notes |`, '| --- | --- | --- |');
      for (const [name, counterpart] of Object.entries(anchor.outputs)) parts.push(row(name, counterpart));
      parts.push('', `migrate rewrites \`steps.<id>.outputs.<name>\` in the rest of the job to these names.`, '');
    }
    if (anchor === COSIGN_INSTALLER) parts.push(...COSIGN_SIGN_DOC, '');
  }
  return `${parts.join('\n').trimEnd()}\n`;
}

/** How the `run: cosign sign …` step after cosign-installer is read (migrate.ts does it). */
const COSIGN_SIGN_DOC = [
  '### The `cosign sign` step',
  '',
  '| `cosign sign` | sign | Notes |',
  '| --- | --- | --- |',
  '| `<image>@<digest>` | `image`, `digest` | `$VAR` and `${VAR}` from the step’s env become its expression, others `${{ env.VAR }}`. |',
  '| `echo "${TAGS}" \\| xargs -I {} cosign sign {}@${DIGEST}` | `image`, `digest` | TAGS from a docker/metadata-action step with one image: that image, signed once by digest (a signature belongs to the digest, whatever the tag); image is `${{ fromJSON(steps.<id>.outputs.json).tags[0] }}`, the name as the action lower-cased it (not its `images` input: `${{ github.repository }}` may have capitals, which registries refuse). Otherwise the step is left as it is. |',
  '| `--yes`, `-y` | — (not needed) | sign never prompts. |',
  '| `--key env://VAR` | `key` | VAR’s value from the step’s env (the PEM, e.g. a secret); COSIGN_PASSWORD becomes `key-password`. A key file or KMS URI has no counterpart. |',
  '| `--tlog-upload=false` | `tlog-upload: false` | |',
  '| any other flag | — | no counterpart: the step is left as it is and the flag reported. |',
];
