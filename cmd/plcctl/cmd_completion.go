package main

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/pflag"

	"github.com/plcctl/plcctl/plc"
)

// completeCommand is the hidden command the completion scripts call:
// "plcctl __complete WORD... CURRENT" prints the candidates for CURRENT, one
// per line. Nothing is sent to any device.
const completeCommand = "__complete"

// flagValues are the words flag name of command cmd ("" before the
// command) takes, for completion.
func flagValues(cmd, name string) []string {
	switch name {
	case "type":
		var ts []string
		for _, t := range plc.Types() {
			ts = append(ts, t.String())
		}
		return ts
	case "word-order":
		return []string{"ABCD", "CDAB", "BADC", "DCBA"}
	case "output":
		return []string{"text", "json", "csv"}
	case "log-format":
		return []string{"text", "json"}
	case "log-level":
		return []string{"trace", "debug", "info", "warn", "error"}
	case "level":
		return []string{"basic", "regular", "extended", "individual"}
	case "function":
		if cmd == "bench" {
			return []string{"read", "write"}
		}
		return []string{"read-holding-registers", "read-input-registers", "read-coils", "read-discrete-inputs"}
	}
	return nil
}

// takesTags reports whether the command takes tag names as arguments (a function, not a map: a map literal is built at every start; issue 10).
func takesTags(name string) bool {
	switch name {
	case "get", "set", "watch-tags", "watch":
		return true
	}
	return false
}

// complete returns the candidates for the last word of words (the word
// being typed, possibly empty), given the words before it.
func (a *app) complete(words []string) []string {
	words, cut := joinEquals(words)
	cands := a.completeWords(words)
	if cut != "" {
		for i, c := range cands {
			cands[i] = strings.TrimPrefix(c, cut)
		}
	}
	return cands
}

// joinEquals undoes bash's split of --flag=value at the "=" (it is in
// COMP_WORDBREAKS): "--output" "=" "j" is the one word "--output=j". When
// that word is the one being completed, bash replaces only what follows
// the "=", so cut is "--output=", to be cut from the candidates. zsh and
// fish pass --output=j whole: nothing to join, cut is "".
func joinEquals(words []string) (joined []string, cut string) {
	for i := 0; i < len(words); i++ {
		n := len(joined)
		if words[i] != "=" || n == 0 || !strings.HasPrefix(joined[n-1], "--") || strings.Contains(joined[n-1], "=") {
			joined = append(joined, words[i])
			continue
		}
		flag := joined[n-1] + "="
		joined[n-1] = flag
		if i+1 < len(words) {
			i++
			joined[n-1] += words[i]
		}
		cut = ""
		if i == len(words)-1 {
			cut = flag
		}
	}
	return joined, cut
}

// completeWords is complete for words as the user wrote them.
func (a *app) completeWords(words []string) []string {
	if len(words) == 0 {
		words = []string{""}
	}
	cur, before := words[len(words)-1], words[:len(words)-1]
	var cmd *command
	var plantFile string
	var args []string // the command's arguments before cur
	var scratch sharedOptions
	global := scratch.newFlagSet("plcctl")
	fs := global
	for i := 0; i < len(before); i++ {
		w := before[i]
		if strings.HasPrefix(w, "--plant=") {
			plantFile = strings.TrimPrefix(w, "--plant=")
		}
		if w == "--plant" && i+1 < len(before) {
			plantFile = before[i+1]
		}
		if strings.HasPrefix(w, "-") {
			if takesValue(fs, w) || w == "--plant" {
				i++
			}
			continue
		}
		if cmd == nil {
			if c := a.lookup(w); c != nil {
				cmd, fs = c, c.flags
			}
		} else if cmd.name != "watch" && cmd.name != "poll" || len(args) > 0 {
			args = append(args, w)
		} else if inner := a.lookup(w); inner == nil || inner.prepareRead == nil {
			args = append(args, w) // watch TAG...
		} else {
			// watch READ-COMMAND: its flags and watch's own from here on.
			own, _ := splitFlags(cmd.flags)
			own.VisitAll(func(f *pflag.Flag) {
				if inner.flags.Lookup(f.Name) == nil {
					inner.flags.AddFlag(f)
				}
			})
			cmd, fs = inner, inner.flags
		}
	}
	// The value of the flag before the cursor.
	if n := len(before); n > 0 && strings.HasPrefix(before[n-1], "-") && takesValue(fs, before[n-1]) {
		f := lookupFlag(fs, before[n-1])
		return filter(flagValues(cmdName(cmd), f.Name), cur)
	}
	if name, val, ok := strings.Cut(cur, "="); ok && strings.HasPrefix(name, "--") {
		var out []string
		for _, v := range filter(flagValues(cmdName(cmd), strings.TrimPrefix(name, "--")), val) {
			out = append(out, name+"="+v)
		}
		return out
	}
	if strings.HasPrefix(cur, "-") {
		var names []string
		fs.VisitAll(func(f *pflag.Flag) {
			if !f.Hidden {
				names = append(names, "--"+f.Name)
			}
		})
		if cmd == nil {
			names = append(names, "--version", "--help")
		}
		return filter(names, cur)
	}
	switch {
	case cmd == nil:
		var names []string
		for _, w := range commandWords() {
			names = append(names, w)
		}
		return filter(names, cur)
	case cmd.name == "help":
		return filter(commandWords(), cur)
	case (cmd.name == "watch" || cmd.name == "poll") && len(args) == 0:
		return filter(append(append([]string{}, readCommandNames...), a.tagNames(plantFile)...), cur)
	case cmd.name == "completion":
		return filter([]string{"bash", "zsh", "fish"}, cur)
	case cmd.name == "set" && len(args) == 1: // set TAG VALUE: a value, not another tag
		if a.isBoolTag(plantFile, args[0]) {
			return filter([]string{"on", "off"}, cur)
		}
		return nil
	case cmd.name == "set" && len(args) > 1:
		return nil
	case cmd.name == "write-coil" && len(args) == 1:
		return filter([]string{"on", "off"}, cur)
	case takesTags(cmd.name):
		return filter(a.tagNames(plantFile), cur)
	}
	return nil
}

// isBoolTag reports whether the plant file has a bool tag named name.
func (a *app) isBoolTag(file, name string) bool {
	p, err := a.loadPlant(file)
	if err != nil {
		return false
	}
	for _, t := range p.Tags {
		if t.Name == name {
			return t.Bool
		}
	}
	return false
}

// cmdName is the name of cmd, "" for none (the words before a command).
func cmdName(cmd *command) string {
	if cmd == nil {
		return ""
	}
	return cmd.name
}

// tagNames are the tags of the plant file (--plant or $PLCCTL_PLANT), or
// none when there is no readable one.
func (a *app) tagNames(file string) []string {
	p, err := a.loadPlant(file)
	if err != nil {
		return nil
	}
	var names []string
	for _, t := range p.Tags {
		names = append(names, t.Name)
	}
	sort.Strings(names)
	return names
}

func lookupFlag(fs *pflag.FlagSet, arg string) *pflag.Flag {
	if strings.HasPrefix(arg, "--") {
		return fs.Lookup(arg[2:])
	}
	return fs.ShorthandLookup(arg[1:])
}

// filter keeps the candidates that start with prefix (case-insensitive, as
// the words flags take are).
func filter(cands []string, prefix string) []string {
	var out []string
	for _, c := range cands {
		if strings.HasPrefix(strings.ToLower(c), strings.ToLower(prefix)) {
			out = append(out, c)
		}
	}
	return out
}

func (a *app) completionCommand() *command {
	c := &command{name: "completion", args: "bash|zsh|fish", flags: a.opts.newFlagSet("completion")}
	c.long = `Prints a completion script for bash, zsh or fish: commands, flags, the values of --type,
--word-order, --output and the other enumerated flags, the read commands after watch, and
tag names from the plant file given with --plant (or $PLCCTL_PLANT) on the same line. The
script asks plcctl itself for the candidates, so it follows the installed version.

  bash: source <(plcctl completion bash)       (or save it in /etc/bash_completion.d/)
  zsh:  source <(plcctl completion zsh)        (or save it as _plcctl in a $fpath directory)
  fish: plcctl completion fish > ~/.config/fish/completions/plcctl.fish`
	c.example = []string{"completion bash", "completion zsh", "completion fish"}
	c.run = func(ctx context.Context, args []string) error {
		if len(args) != 1 {
			return usagef("want one shell, bash, zsh or fish, got %s", arguments(len(args)))
		}
		if err := onlyText(c, "prints a shell script"); err != nil {
			return err
		}
		script, ok := completionScript(strings.ToLower(args[0]))
		if !ok {
			return usagef("shell %q: want bash, zsh or fish", args[0])
		}
		_, err := fmt.Fprint(a.stdout, script)
		return err
	}
	return c
}

// completionScript returns the completion script for shell (a function, not a map: a map literal is built at every start; issue 10).
func completionScript(shell string) (string, bool) {
	switch shell {
	case "bash":
		return `# bash completion for plcctl; source <(plcctl completion bash)
_plcctl() {
	local cur=${COMP_WORDS[COMP_CWORD]}
	local IFS=$'\n'
	local cands
	cands=$("${COMP_WORDS[0]}" __complete "${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null)
	if [ -z "$cands" ]; then
		COMPREPLY=($(compgen -f -- "$cur"))
	else
		COMPREPLY=($cands)
	fi
}
complete -o default -F _plcctl plcctl
`, true
	case "zsh":
		return `#compdef plcctl
# zsh completion for plcctl; source <(plcctl completion zsh)
_plcctl() {
	local -a cands
	cands=("${(@f)$(${words[1]} __complete "${(@)words[2,CURRENT]}" 2>/dev/null)}")
	if [[ -z "${cands[1]}" ]]; then
		_files
	else
		compadd -a cands
	fi
}
compdef _plcctl plcctl
`, true
	case "fish":
		return `# fish completion for plcctl; plcctl completion fish > ~/.config/fish/completions/plcctl.fish
function __plcctl_complete
	set -l words (commandline -opc) (commandline -ct)
	set -l cands ($words[1] __complete $words[2..-1] 2>/dev/null)
	# No candidates: a FILE (shell's script, --plant, --tls-*), as bash and zsh fall back to.
	if test (count $cands) -eq 0
		__fish_complete_path (commandline -ct)
	else
		printf '%s\n' $cands
	end
end
complete -c plcctl -f -a '(__plcctl_complete)'
`, true
	}
	return "", false
}
