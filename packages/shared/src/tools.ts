/**
 * The scanners and signer the toolkit installs, each pinned to a version with the SHA-256 of its
 * release asset for linux and darwin, x64 and arm64. A sum is checked before anything is extracted
 * or run (installTool), and it never comes from the place the binary comes from.
 *
 * Where the sums come from (each taken from the project's checksum file as quoted by public files
 * that pin it, and found the same in at least two independent places):
 * - trivy 0.70.0: trivy_0.70.0_checksums.txt of the official release (releases 0.27 to 0.69.1 were
 *   deleted in March 2026 and 0.69.4 was malicious: GHSA-69fq-xp46-6x23; 0.70.0 came after).
 * - syft 1.44.0: syft_1.44.0_checksums.txt of the official release.
 * - cosign v3.1.3: cosign_checksums.txt of the official release (the macOS sums also as pinned by
 *   Homebrew's formula).
 * A version or platform not in this table is refused unless its sum is given (`<tool>-sha256`).
 */
import { InputError } from './errors.js';
import type { ToolSpec } from './install-tool.js';
import { currentPlatform } from './install-tool.js';

export type ToolName = 'trivy' | 'syft' | 'cosign';
export type Platform = 'linux-x64' | 'linux-arm64' | 'darwin-x64' | 'darwin-arm64';

interface PinnedTool {
  version: string;
  /** The release asset's file name for a version and platform. */
  asset: (version: string, platform: Platform) => string;
  url: (version: string, asset: string) => string;
  sha256: Record<Platform, string>;
}

const TRIVY_PLATFORM: Record<Platform, string> = {
  'linux-x64': 'Linux-64bit',
  'linux-arm64': 'Linux-ARM64',
  'darwin-x64': 'macOS-64bit',
  'darwin-arm64': 'macOS-ARM64',
};
const GO_PLATFORM: Record<Platform, string> = {
  'linux-x64': 'linux_amd64',
  'linux-arm64': 'linux_arm64',
  'darwin-x64': 'darwin_amd64',
  'darwin-arm64': 'darwin_arm64',
};

export const PINNED_TOOLS: Record<ToolName, PinnedTool> = {
  trivy: {
    version: '0.70.0',
    asset: (version, platform) => `trivy_${version}_${TRIVY_PLATFORM[platform]}.tar.gz`,
    url: (version, asset) => `https://github.com/aquasecurity/trivy/releases/download/v${version}/${asset}`,
    sha256: {
      'linux-x64': '8b4376d5d6befe5c24d503f10ff136d9e0c49f9127a4279fd110b727929a5aa9',
      'linux-arm64': '2f6bb988b553a1bbac6bdd1ce890f5e412439564e17522b88a4541b4f364fc8d',
      'darwin-x64': '52d531452b19e7593da29366007d02a810e1e0080d02f9cf6a1afb46c35aaa93',
      'darwin-arm64': '68e543c51dcc96e1c344053a4fde9660cf602c25565d9f09dc17dd41e13b838a',
    },
  },
  syft: {
    version: '1.44.0',
    asset: (version, platform) => `syft_${version}_${GO_PLATFORM[platform]}.tar.gz`,
    url: (version, asset) => `https://github.com/anchore/syft/releases/download/v${version}/${asset}`,
    sha256: {
      'linux-x64': '0e91737aee2b5baf1d255b959630194a302335d848ff97bb07921eb6205b5f5a',
      'linux-arm64': '6f6cdcdc695721d91ce756e3b5bc3e3416599c464101f5e32e9c3f33054ee6d9',
      'darwin-x64': 'c40ece5407927327f94f35901727dbc604b46857e04f04ec94a310845fb71bde',
      'darwin-arm64': '24e4d34078ae81da7c82539616f0ccac3e226cf4f74a38ce6fb3463619e50a55',
    },
  },
  cosign: {
    version: '3.1.3',
    asset: (_version, platform) => `cosign-${GO_PLATFORM[platform].replace('_', '-')}`,
    url: (version, asset) => `https://github.com/sigstore/cosign/releases/download/v${version}/${asset}`,
    sha256: {
      'linux-x64': '4629c757b7618056f8ddd7e2625ae9fdd94c0372a65049520bc7d9df9efc7f71',
      'linux-arm64': 'c5d324e091826b0d7a78eb16fef316450b4eb9aaec045611c08ba06f5e73220a',
      'darwin-x64': '2347488e5d5b25336644024dfeca5601b190e91197a71a917bda44744aff106c',
      'darwin-arm64': '5cf948c2f4dfe59687bdd0b8523709067383e03982cc543475c8a7dc70e92a76',
    },
  },
};

export interface PinnedToolOptions {
  /** A pinned version, `system` (the tool on PATH), or empty for the default. */
  version?: string;
  /** The sum of a version or platform the table does not pin (the `<tool>-sha256` input). */
  sha256?: string;
  platform?: string;
  /** A mirror of the release downloads (the same file names below it); GitHub's by default. */
  downloadBase?: string;
  /** The input the version was given as, for errors (`<tool>-version`, or an alias such as cosign-release). */
  input?: string;
}

/** What installTool needs for a pinned tool; refuses what it cannot verify. */
export function pinnedToolSpec(name: ToolName, options: PinnedToolOptions = {}): ToolSpec {
  const pinned = PINNED_TOOLS[name];
  const version = (options.version || pinned.version).replace(/^v/, '');
  const input = options.input ?? `${name}-version`;
  if (version === 'system') return { name, version: 'system', url: '', sha256: '' };
  if (!/^\d+\.\d+\.\d+$/.test(version))
    throw new InputError(
      input,
      `${JSON.stringify(options.version)} is not allowed; expected a version such as ${pinned.version}, or system.`,
    );
  const platform = (options.platform ?? currentPlatform()) as Platform;
  if (!(platform in pinned.sha256)) {
    throw new InputError(
      input,
      `${name} is pinned for ${Object.keys(pinned.sha256).join(', ')}, not ${platform}; use version system, or give ${name}-sha256.`,
    );
  }
  const known = version === pinned.version ? pinned.sha256[platform] : undefined;
  const sha256 = options.sha256 || known;
  if (!sha256) {
    throw new InputError(
      input,
      `${version} is not pinned here (the pinned version is ${pinned.version}); give its SHA-256 as ${name}-sha256, from the project's published checksums.`,
    );
  }
  const asset = pinned.asset(version, platform);
  const url = options.downloadBase ? `${options.downloadBase.replace(/\/+$/, '')}/v${version}/${asset}` : pinned.url(version, asset);
  return {
    name,
    version,
    platform,
    url,
    sha256,
    ...(asset.endsWith('.tar.gz') ? { archive: 'tar.gz' as const } : { archive: 'binary' as const, binary: name }),
  };
}
