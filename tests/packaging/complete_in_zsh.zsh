# complete_in_zsh.zsh DIR LINE...: loads the completion functions of DIR (on $fpath, then
# compinit) in an interactive zsh on a pseudo-terminal (zpty), types each LINE and a Tab there,
# and prints one line per LINE: every candidate the completion system was given that matches the
# word being completed, sorted, space-separated. The shell inherits the environment; its setup
# script goes to $TMPDIR. Candidates are caught by wrapping compadd (with -O, which matches
# without adding), so that what is printed does not depend on how zsh would show or insert them.
emulate -L zsh
zmodload zsh/zpty || exit 2
[[ $# -ge 2 ]] || { print -u2 "usage: zsh -f complete_in_zsh.zsh DIR LINE..."; exit 2 }

setup=$(mktemp) || exit 2
trap 'rm -f $setup; zpty -d shell 2>/dev/null' EXIT
cat >$setup <<SETUP
PS1='' RPS1='' PROMPT_EOL_MARK=''
bindkey -e
fpath=(${(q)1} \$fpath)
autoload -Uz compinit && compinit -u -D
typeset -ga captured
compadd() {
  # Calls that only ask (-O, -A) or filter (-D) go through untouched.
  if [[ \${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then
    builtin compadd "\$@"
    return
  fi
  local -a matched
  builtin compadd -O matched "\$@"
  captured+=("\${matched[@]}")
  builtin compadd "\$@"
}
capture-main() {
  captured=()
  _main_complete
  print -rn -- \$'\n'"<<<\${(pj:\n:)\${(@ou)captured}}>>>"\$'\n'
}
zle -C capture-complete complete-word capture-main
bindkey '^I' capture-complete
print -r -- "ready""-to-complete"
SETUP

zpty shell zsh -f -i
zpty -w shell "source ${(q)setup}"
zpty -r -m shell output '*ready-to-complete*' || exit 2
for line in "${@[2,-1]}"; do
  # Ctrl+U empties the line that the previous completion may have left.
  zpty -w -n shell $'\C-u'"$line"$'\t'
  zpty -r -m shell output '*<<<*>>>*' || exit 2
  output=${output//$'\r'/}
  output=${${output##*<<<}%%>>>*}
  print -r -- ${(j: :)${(@ou)${(f)output}}}
done
exit 0
