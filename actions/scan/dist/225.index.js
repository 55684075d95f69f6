export const id = 225;
export const ids = [225];
export const modules = {

/***/ 43225:
/***/ ((__unused_webpack___webpack_module__, __webpack_exports__, __webpack_require__) => {

__webpack_require__.r(__webpack_exports__);
/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   dependencySnapshot: () => (/* binding */ dependencySnapshot),
/* harmony export */   imageRepository: () => (/* binding */ imageRepository),
/* harmony export */   packageUrls: () => (/* binding */ packageUrls),
/* harmony export */   snapshotCommit: () => (/* binding */ snapshotCommit),
/* harmony export */   submitDependencySnapshot: () => (/* binding */ submitDependencySnapshot),
/* harmony export */   uploadSbomArtifact: () => (/* binding */ uploadSbomArtifact)
/* harmony export */ });
/* harmony import */ var node_fs_promises__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(51455);
/* harmony import */ var node_path__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(76760);
/* harmony import */ var _toolkit_shared__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(69929);
/* harmony import */ var _toolkit_shared__WEBPACK_IMPORTED_MODULE_3__ = __webpack_require__(67605);
/**
 * Where the SBOM goes after the scan, as anchore/sbom-action users expect: a workflow artifact
 * (artifact-name there, sbom-artifact here) and GitHub's dependency graph (dependency-snapshot),
 * through the dependency submission API. main.ts loads this file only when one of them is asked
 * for, so the default path does not carry @actions/artifact (and Azure's storage client under it).
 */



/** Uploads the SBOM file as the artifact `name` (one file, archived as GitHub's artifacts are). */
async function uploadSbomArtifact(file, name, retentionDays, env = process.env) {
    // The runner gives JavaScript actions these two; without them (toolkit run, a container step
    // that drops them) there is no artifact service to upload to.
    const missing = ['ACTIONS_RUNTIME_TOKEN', 'ACTIONS_RESULTS_URL'].filter((name) => !env[name]);
    if (missing.length > 0) {
        throw new _toolkit_shared__WEBPACK_IMPORTED_MODULE_2__/* .UserError */ .yo('INVALID_CONFIGURATION', `sbom-artifact needs GitHub's artifact service, which the runner announces in ${missing.join(' and ')}; ${missing.length === 1 ? 'it is' : 'they are'} not set here. Leave sbom-artifact empty where the step does not run on a GitHub runner.`);
    }
    const { DefaultArtifactClient } = await Promise.all(/* import() */[__webpack_require__.e(521), __webpack_require__.e(343), __webpack_require__.e(405), __webpack_require__.e(280), __webpack_require__.e(170)]).then(__webpack_require__.bind(__webpack_require__, 2170));
    const client = new DefaultArtifactClient();
    try {
        const uploaded = await client.uploadArtifact(name, [file], node_path__WEBPACK_IMPORTED_MODULE_1__.dirname(file), retentionDays > 0 ? { retentionDays } : {});
        return { id: uploaded.id, size: uploaded.size };
    }
    catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        throw new _toolkit_shared__WEBPACK_IMPORTED_MODULE_2__/* .ToolkitError */ .h4('COMMAND_FAILED', `The SBOM ${file} could not be uploaded as the artifact ${JSON.stringify(name)} (sbom-artifact): ${message}`);
    }
}
/**
 * The package URLs an SBOM lists: SPDX packages' PACKAGE-MANAGER purl references, CycloneDX
 * components' purl (nested components included). Packages without one cannot be submitted.
 */
function packageUrls(sbom) {
    const document = (sbom ?? {});
    const purls = new Set();
    let without = 0;
    if (Array.isArray(document.packages)) {
        for (const pkg of document.packages) {
            const refs = Array.isArray(pkg.externalRefs) ? pkg.externalRefs : [];
            const purl = refs.find((ref) => String(ref.referenceType).toLowerCase() === 'purl')?.referenceLocator;
            // SPDX lists the image itself as a package; it has no purl of a dependency.
            if (typeof purl === 'string' && purl.startsWith('pkg:'))
                purls.add(purl);
            else
                without += 1;
        }
    }
    else {
        const walk = (components) => {
            for (const component of Array.isArray(components) ? components : []) {
                if (typeof component.purl === 'string' && component.purl.startsWith('pkg:'))
                    purls.add(component.purl);
                else
                    without += 1;
                walk(component.components);
            }
        };
        walk(document.components);
    }
    return { purls: [...purls].sort(), without };
}
/** An image reference's repository, without its tag and digest (`localhost:5000/acme/web`). */
function imageRepository(image) {
    const name = image.split('@')[0];
    const colon = name.lastIndexOf(':');
    return colon > name.lastIndexOf('/') ? name.slice(0, colon) : name;
}
/**
 * The commit a snapshot belongs to. On pull_request GITHUB_SHA is GitHub's merge commit, which no
 * branch has; the pull request's head commit is the one the dependency review compares (as
 * sbom-action submits it). Elsewhere, GITHUB_SHA.
 */
async function snapshotCommit(env) {
    if (env.GITHUB_EVENT_NAME !== 'pull_request' || !env.GITHUB_EVENT_PATH)
        return env.GITHUB_SHA ?? '';
    const event = JSON.parse(await (0,node_fs_promises__WEBPACK_IMPORTED_MODULE_0__.readFile)(env.GITHUB_EVENT_PATH, 'utf8'));
    const head = event.pull_request?.head?.sha;
    return typeof head === 'string' && /^[0-9a-f]{40}$/.test(head) ? head : (env.GITHUB_SHA ?? '');
}
/**
 * The snapshot of one image: one manifest named after the image, every package in it as a runtime
 * dependency (an image has no dependency tree to tell direct from indirect; sbom-action's Syft says
 * direct too). The correlator names the image's repository (not its tag or digest, which change
 * every commit): the next scan of it replaces this one, and two images in one job do not.
 */
function dependencySnapshot(sbom, context) {
    const { purls } = packageUrls(sbom);
    const name = context.image.split('@')[0];
    const resolved = {};
    for (const purl of purls)
        resolved[purl] = { package_url: purl, relationship: 'direct', scope: 'runtime' };
    return {
        version: 0,
        sha: context.sha,
        ref: context.ref,
        job: {
            correlator: `${context.workflow}_${context.job}_${imageRepository(context.image)}`,
            id: context.runId,
            ...(context.repository && context.runId
                ? { html_url: `${context.serverUrl}/${context.repository}/actions/runs/${context.runId}` }
                : {}),
        },
        detector: { name: 'toolkit scan (syft)', version: context.syftVersion || 'unknown', url: 'https://github.com/anchore/syft' },
        scanned: context.scanned.toISOString(),
        manifests: { [name]: { name, resolved } },
    };
}
/** Reads the SBOM and submits it; returns the snapshot's id and how many packages went in. */
async function submitDependencySnapshot(file, context, github, now = new Date()) {
    if (!context.sha || !/^refs\//.test(context.ref)) {
        throw new _toolkit_shared__WEBPACK_IMPORTED_MODULE_2__/* .UserError */ .yo('INVALID_CONFIGURATION', 'dependency-snapshot needs GITHUB_SHA and GITHUB_REF (refs/…) to say which commit the SBOM belongs to; they are not set here.');
    }
    const sbom = JSON.parse(await (0,node_fs_promises__WEBPACK_IMPORTED_MODULE_0__.readFile)(file, 'utf8'));
    const snapshot = dependencySnapshot(sbom, { ...context, scanned: now });
    const { owner, repo } = (0,_toolkit_shared__WEBPACK_IMPORTED_MODULE_3__/* .parseRepository */ .S)(context.repository, 'GITHUB_REPOSITORY');
    const client = await github();
    try {
        const response = await client.request('POST /repos/{owner}/{repo}/dependency-graph/snapshots', {
            owner,
            repo,
            ...snapshot,
        });
        const data = response.data;
        return {
            id: data.id ?? 0,
            packages: Object.keys(Object.values(snapshot.manifests)[0]?.resolved ?? {}).length,
            without: packageUrls(sbom).without,
        };
    }
    catch (error) {
        const status = error.status;
        const hint = status === 404 || status === 403 ? ' The token needs contents: write, and the repository needs the dependency graph enabled.' : '';
        throw new _toolkit_shared__WEBPACK_IMPORTED_MODULE_2__/* .ToolkitError */ .h4('COMMAND_FAILED', `The SBOM could not be submitted to the dependency graph (dependency-snapshot): ${error instanceof Error ? error.message : String(error)}.${hint}`);
    }
}


/***/ })

};

//# sourceMappingURL=225.index.js.map