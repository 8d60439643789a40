#!/bin/zsh -f
# Prints, one a line, the candidates zsh's completion system offers for a command line:
#   zsh -f zsh-complete.zsh FPATH_DIR 'dialtone call --pl'
# It starts an interactive zsh on a pseudo-terminal (zpty), runs compinit with FPATH_DIR first
# in $fpath, wraps compadd to print what is added, types the line and a TAB, and stops after
# the first completion. The markers are split in the typed text ("H""IT") so that the
# terminal's echo of the commands is not taken for output.
zmodload zsh/zpty || exit 2
zpty z zsh -f -i
zpty -w z 'PROMPT=; RPROMPT=; unsetopt zle_bracketed_paste 2>/dev/null'
zpty -w z "fpath=(${(q)1} \$fpath); autoload -U compinit; compinit -u -D"
zpty -w z "zstyle ':completion:*' menu no"
zpty -w z 'compadd () { builtin compadd -O __hits "$@"; builtin compadd "$@"; local h; for h in $__hits; do print -r -- "H""IT:$h"; done }'
zpty -w z "comppostfuncs=(_stop_after_one); _stop_after_one() { print -r -- 'DO''NE'; exit }"
zpty -w -n z "$2"$'\t'
local line n=0
while zpty -r -t z line || { sleep 0.05; (( ++n < 200 )) }; do
  [[ -z $line ]] && continue
  [[ $line == DONE* ]] && break
  [[ $line == *HIT:* ]] && print -r -- "${${line##*HIT:}%%$'\r'}"
done
zpty -d z
