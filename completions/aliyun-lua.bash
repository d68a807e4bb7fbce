# bash completion for aliyun-lua: products, actions, parameter names (--RegionId ...),
# options and their values (profiles, regions, --output's words). The command itself says
# what fits (aliyun-lua __complete LINE), so this stays in step with its tables.
# Load it with `source completions/aliyun-lua.bash`; `make install` puts it where
# bash-completion finds it.
_aliyun_lua() {
    local line="${COMP_LINE:0:COMP_POINT}"
    local cur="${COMP_WORDS[COMP_CWORD]}"
    local word="${line##*[[:space:]]}" # the word as typed (bash splits at = and :)
    local cut=$(( ${#word} - ${#cur} ))
    local c
    COMPREPLY=()
    while IFS= read -r c; do
        [ -n "$c" ] && COMPREPLY+=("${c:cut}")
    done < <("${COMP_WORDS[0]}" __complete "$line" 2>/dev/null)
    # a word that asks for a value (cols=, rows=) goes on without a space
    if [ ${#COMPREPLY[@]} -eq 1 ] && [[ ${COMPREPLY[0]} == *= ]]; then
        compopt -o nospace 2>/dev/null
    fi
}
complete -F _aliyun_lua aliyun-lua
