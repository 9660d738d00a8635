/**
 * `cadence completion bash|zsh|fish`: a completion script generated from the commander command
 * tree, so every command and option completes (none is forgotten in a hand-kept list); a
 * command whose first argument is `<service>` completes service names from the server
 * (`cadence ls --names`, with the same --server / CADENCE_SERVER as any command).
 */
import { Command } from 'commander';
import { CadenceError } from '../problem/index.js';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

/** One command as completion sees it: its name, long options and whether it takes a service. */
export interface CompletionEntry {
  name: string;
  description: string;
  options: string[];
  subcommands: string[];
  takesService: boolean;
}

/** The top-level commands of a program, for the scripts below. */
export function completionEntries(program: Command): CompletionEntry[] {
  return program.commands.map((command) => ({
    name: command.name(),
    description: command.description(),
    options: [...command.options.map((o) => o.long).filter((l): l is string => !!l), '--help'],
    subcommands: command.commands.map((sub) => sub.name()),
    takesService: command.registeredArguments[0]?.name() === 'service',
  }));
}

const words = (list: string[]) => list.join(' ');
const SERVICES = 'cadence ls --names 2>/dev/null';

/** @example completionScript('bash', entries) // "_cadence() { … }\ncomplete -F _cadence cadence" */
export function completionScript(shell: Shell, entries: CompletionEntry[]): string {
  const names = entries.map((e) => e.name);
  const services = entries.filter((e) => e.takesService).map((e) => e.name);
  if (shell === 'bash') {
    const options = entries
      .map((e) => `    ${e.name}) opts="${words(e.options)}" subs="${words(e.subcommands)}" ;;`)
      .join('\n');
    return `# cadence bash completion: source <(cadence completion bash)
_cadence() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" opts="" subs=""
  if [[ \${COMP_CWORD} -eq 1 ]]; then
    COMPREPLY=($(compgen -W "${words(names)}" -- "$cur"))
    return
  fi
  case "\${COMP_WORDS[1]}" in
${options}
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
    return
  fi
  if [[ -n "$subs" && \${COMP_CWORD} -eq 2 ]]; then
    COMPREPLY=($(compgen -W "$subs" -- "$cur"))
    return
  fi
  case "\${COMP_WORDS[1]}" in
    ${services.join('|') || '__none__'})
      if [[ \${COMP_CWORD} -eq 2 ]]; then
        COMPREPLY=($(compgen -W "$(${SERVICES})" -- "$cur"))
      fi
      ;;
  esac
}
complete -F _cadence cadence
`;
  }
  if (shell === 'zsh') {
    const described = entries
      .map((e) => `    '${e.name}:${e.description.replace(/['\\]/g, '').replace(/:/g, '\\:')}'`)
      .join('\n');
    const options = entries
      .map((e) => `    ${e.name}) opts=(${words(e.options)}); subs=(${words(e.subcommands)}) ;;`)
      .join('\n');
    return `#compdef cadence
# cadence zsh completion: source <(cadence completion zsh)
_cadence() {
  local -a commands opts subs
  commands=(
${described}
  )
  if (( CURRENT == 2 )); then
    _describe 'command' commands
    return
  fi
  case "\${words[2]}" in
${options}
  esac
  if [[ "\${words[CURRENT]}" == -* ]]; then
    compadd -- "\${opts[@]}"
    return
  fi
  if (( CURRENT == 3 && \${#subs} > 0 )); then
    compadd -- "\${subs[@]}"
    return
  fi
  case "\${words[2]}" in
    ${services.join('|') || '__none__'})
      (( CURRENT == 3 )) && compadd -- \${(f)"$(${SERVICES})"}
      ;;
  esac
}
compdef _cadence cadence
`;
  }
  const lines = [
    '# cadence fish completion: cadence completion fish | source',
    'complete -c cadence -f',
    ...entries.map(
      (e) =>
        `complete -c cadence -n __fish_use_subcommand -a ${e.name} -d '${e.description.replace(/'/g, "\\'")}'`,
    ),
    ...entries.flatMap((e) =>
      e.options.map(
        (o) => `complete -c cadence -n '__fish_seen_subcommand_from ${e.name}' -l ${o.slice(2)}`,
      ),
    ),
    ...entries
      .filter((e) => e.subcommands.length > 0)
      .map(
        (e) =>
          `complete -c cadence -n '__fish_seen_subcommand_from ${e.name}' -a '${words(e.subcommands)}'`,
      ),
    ...(services.length > 0
      ? [
          `complete -c cadence -n '__fish_seen_subcommand_from ${words(services)}' -a '(${SERVICES})'`,
        ]
      : []),
  ];
  return `${lines.join('\n')}\n`;
}

/** The `completion` command; `program` is read when it runs, so it sees every command. */
export function completionCommand(program: () => Command): Command {
  return new Command('completion')
    .description(`print a shell completion script (${SHELLS.join(', ')})`)
    .argument('[shell]', SHELLS.join(' | '), 'bash')
    .action((shell: string) => {
      if (!(SHELLS as readonly string[]).includes(shell))
        throw new CadenceError('invalid-input', {
          field: 'shell',
          detail: `no completion for ${shell}; ${SHELLS.join(', ')} are supported`,
        });
      process.stdout.write(completionScript(shell as Shell, completionEntries(program())));
    });
}
