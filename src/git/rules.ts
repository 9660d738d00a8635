import picomatch from 'picomatch';
import { parse as parseYaml } from 'yaml';
import { CadenceError } from '../problem/index.js';
import { PACKAGE_CAPTURE, rulesSchema, type Role, type RulesInput } from './rules-schema.js';

/** A compiled path glob: null when the file does not match, else the captured package (if any). */
export type PathMatcher = (file: string) => { package: string | null } | null;

export interface Purpose {
  name: string;
  role: Role;
  /** Deploys only: the environment deployed to. */
  environment: string | null;
  paths: PathMatcher[] | null;
  message: RegExp | null;
  /** Patterns see the whole message (true) or only its subject line. */
  wholeMessage: boolean;
  packages: { name: string; contains: string }[] | null;
  merge: { parents: boolean; message: RegExp | null } | null;
}

export interface Rules {
  purposes: Purpose[];
  /** Promotion order; the last is production. `['production']` when the file lists none. */
  environments: string[];
  production: string;
}

/** What a commit must offer the rules: its subject, its parents and the files it changed. */
export interface ClassifiableCommit {
  id: string;
  message: string;
  authorWhen: Date;
  parents: number;
  files: string[];
}

/** A cause or deploy of one package by one commit. */
export interface GitEvent {
  commit: string;
  /** The commit's author time: when the change was made, whatever happened to it later. */
  at: Date;
  role: 'cause' | 'deploy';
  purpose: string;
  package: string;
  /** Deploys: the environment; causes: null. */
  environment: string | null;
}

// Letters only, so picomatch copies it into the regular expression unchanged.
const PLACEHOLDER = 'cadencepackagecapture';

/**
 * Compiles a path glob. `{package}` (not a picomatch brace: it is taken out first) captures the
 * text it stands for within one path segment; followed by `/` it must be a folder.
 *
 * @example
 * compileGlob('packages/vendored/{package}/**')('packages/vendored/nginx/conf') // { package: 'nginx' }
 */
export function compileGlob(glob: string): PathMatcher {
  const options = { dot: true };
  if (!glob.includes(PACKAGE_CAPTURE)) {
    const isMatch = picomatch(glob, options);
    return (file) => (isMatch(file) ? { package: null } : null);
  }
  const base = picomatch.makeRe(glob.replace(PACKAGE_CAPTURE, PLACEHOLDER), options);
  // `{package}/**` means a folder: picomatch lets `dir/**` match `dir` itself, which would take
  // a file beside the package folders (`deploy/prod/kustomization.yaml`) for a package.
  const folder = glob.includes(`${PACKAGE_CAPTURE}/`) ? '(?=/)' : '';
  const regex = new RegExp(
    base.source.replace(PLACEHOLDER, `(?<package>[^/]+)${folder}`),
    base.flags,
  );
  return (file) => {
    const match = regex.exec(file);
    return match ? { package: match.groups!.package! } : null;
  };
}

/** The subject line: message patterns are matched against it. */
export function subjectOf(message: string): string {
  const newline = message.indexOf('\n');
  return newline < 0 ? message : message.slice(0, newline);
}

/** Validated rules, compiled. Issues name their place, e.g. `rules.purposes.1.message`. */
export function compileRules(input: RulesInput): Rules {
  const result = rulesSchema.safeParse(input);
  if (!result.success) {
    const issues = result.error.issues.map((issue) => {
      const path = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]] : issue.path;
      return { field: ['rules', ...path].join('.'), message: issue.message };
    });
    throw new CadenceError('invalid-input', {
      detail: `invalid rules: ${issues.map((i) => `${i.field}: ${i.message}`).join('; ')}`,
      issues,
    });
  }
  const document = result.data;
  const environments = document.environments ?? ['production'];
  const production = environments[environments.length - 1]!;
  return {
    environments,
    production,
    purposes: document.purposes.map((purpose) => {
      // Over the whole message, ^ and $ anchor at each line, so a trailer line can be matched.
      const flags = purpose.wholeMessage === true ? 'm' : '';
      return {
        name: purpose.name,
        role: purpose.role,
        environment: purpose.role === 'deploy' ? (purpose.environment ?? production) : null,
        paths: purpose.paths?.map(compileGlob) ?? null,
        message: purpose.message === undefined ? null : new RegExp(purpose.message, flags),
        wholeMessage: purpose.wholeMessage === true,
        packages: purpose.packages ?? null,
        merge:
          purpose.merge === undefined
            ? null
            : purpose.merge === true
              ? { parents: true, message: null }
              : {
                  parents: purpose.merge.parents === true,
                  message:
                    purpose.merge.message === undefined
                      ? null
                      : new RegExp(purpose.merge.message, flags),
                },
      };
    }),
  };
}

/** Parses a rules file (YAML text) at the edge. */
export function parseRules(yamlText: string): Rules {
  let document: unknown;
  try {
    document = parseYaml(yamlText);
  } catch (error) {
    throw new CadenceError('invalid-input', {
      field: 'rules',
      detail: `rules are not valid YAML: ${(error as Error).message}`,
    });
  }
  if (document === null || typeof document !== 'object' || Array.isArray(document)) {
    throw new CadenceError('invalid-input', {
      field: 'rules',
      detail: 'rules must be a YAML mapping with a purposes list',
    });
  }
  return compileRules(document as RulesInput);
}

/** Does the commit satisfy the purpose's merge requirement (if it has one)? */
function isMerge(purpose: Purpose, text: string, parents: number): boolean {
  if (!purpose.merge) return true;
  if (purpose.merge.parents && parents > 1) return true;
  return purpose.merge.message !== null && purpose.merge.message.test(text);
}

function packageFromList(purpose: Purpose, file: string): string | null {
  return purpose.packages?.find((entry) => file.includes(entry.contains))?.name ?? null;
}

/**
 * The purpose a file's change serves (the first whose path globs, message pattern and merge
 * requirement all hold) and the package it concerns. null: no purpose wants the file; a
 * package of null: a purpose matched but no package could be told (reported, not dropped).
 *
 * @example
 * classifyFile(rules, { message: 'vendor nginx', parents: 1 }, 'packages/vendored/nginx/x')
 * // { purpose: <vendoring>, package: 'nginx' }
 */
export function classifyFile(
  rules: Rules,
  commit: { message: string; parents: number },
  file: string,
): { purpose: Purpose; package: string | null } | null {
  const subject = subjectOf(commit.message);
  for (const purpose of rules.purposes) {
    const text = purpose.wholeMessage ? commit.message : subject;
    let captured: string | null = null;
    if (purpose.paths) {
      let hit: { package: string | null } | null = null;
      for (const matcher of purpose.paths) {
        hit = matcher(file);
        if (hit) break;
      }
      if (!hit) continue;
      captured = hit.package;
    }
    if (purpose.message && !purpose.message.test(text)) continue;
    if (!isMerge(purpose, text, commit.parents)) continue;
    return { purpose, package: captured ?? packageFromList(purpose, file) };
  }
  return null;
}

/**
 * The events of one commit: one per (role, environment, package) among its files, in file order.
 * `unattributed` counts files a cause or deploy purpose claimed without a package.
 */
export function classifyCommit(
  rules: Rules,
  commit: ClassifiableCommit,
): { events: GitEvent[]; unattributed: number } {
  const events: GitEvent[] = [];
  const seen = new Set<string>();
  let unattributed = 0;
  for (const file of commit.files) {
    const match = classifyFile(rules, commit, file);
    if (!match || match.purpose.role === 'ignore') continue;
    if (match.package === null) {
      unattributed++;
      continue;
    }
    // Two purposes of one role naming the same package in one commit are one event.
    const key = `${match.purpose.role}\u0000${match.purpose.environment}\u0000${match.package}`;
    if (seen.has(key)) continue;
    seen.add(key);
    events.push({
      commit: commit.id,
      at: commit.authorWhen,
      role: match.purpose.role,
      purpose: match.purpose.name,
      package: match.package,
      environment: match.purpose.environment,
    });
  }
  return { events, unattributed };
}

/** The events of a whole history, ordered by author time (then as the history was given). */
export function classifyHistory(
  rules: Rules,
  history: ClassifiableCommit[],
): { events: GitEvent[]; unattributedFiles: number } {
  const events: GitEvent[] = [];
  let unattributedFiles = 0;
  for (const commit of history) {
    const classified = classifyCommit(rules, commit);
    events.push(...classified.events);
    unattributedFiles += classified.unattributed;
  }
  // A stable sort keeps same-time events in history order.
  events.sort((a, b) => a.at.getTime() - b.at.getTime());
  return { events, unattributedFiles };
}
