#!/bin/sh
# The co-op's circles on one host, for compose's one-shot services (docs/operating.md, "Docker"):
#   circles.sh found   founds each circle of the list that the host does not hold yet;
#   circles.sh peer    peers each member circle with the co-op, both ways, through the public
#                      URL, unless they are peers already.
# The list (CIRCLES, default /setup/circles.txt) has a line per circle, slug|name|aim|domain|
# founder; the first is the co-op. Running either again changes nothing that is already done.
# Each founder's personal token is written to FOUNDERS/<slug>.token (default /founders, a volume
# of its own), mode 0600, never to the output: the service's log may be shipped elsewhere.
set -eu

DATA=${CIRCLE_NODE_DATA:-/data}
LIST=${CIRCLES:-/setup/circles.txt}
TRIES=${CIRCLES_TRIES:-20}
PAUSE=${CIRCLES_PAUSE:-3}
FOUNDERS=${FOUNDERS:-/founders}

say() { printf '%s\n' "$*"; }
fail() { say "error: $*" >&2; exit 1; }
trim() { printf '%s' "$1" | sed 's/^[[:space:]]*//; s/[[:space:]]*$//'; }

# The circles' lines, without comments and blank lines.
circles() { grep -v '^[[:space:]]*\(#\|$\)' "$LIST"; }

# The node id of a circle of this host; nothing (and a failure) if the host holds no such circle.
circle_id() { circle-node id --data "$DATA" --circle "$1" 2>/dev/null; }

found() {
    umask 077  # the founders' tokens: readable by this user only
    mkdir -p "$FOUNDERS" || fail "cannot make $FOUNDERS, where the founders' tokens go"
    circles | while IFS='|' read -r slug name aim domain founder; do
        slug=$(trim "$slug")
        if id=$(circle_id "$slug"); then
            say "circle $slug: founded already, node $id"
            continue
        fi
        # init writes the founder's personal token to its file, and says only where it is.
        circle-node init --data "$DATA" --slug "$slug" --name "$(trim "$name")" \
            --aim "$(trim "$aim")" --domain "$(trim "$domain")" --founder "$(trim "$founder")" \
            --token-file "$FOUNDERS/$slug.token"
    done
}

# Whether circle $1 exchanges feeds with node $2 already.
peered() {
    circle-node peer list --data "$DATA" --circle "$1" | grep -q "^$2  peer "
}

# circle $1 adds circle $2 (node $3) as a peer, once the node serves it at the public URL.
add_peer() {
    if peered "$1" "$3"; then
        say "circle $1: peer of $2 already"
        return
    fi
    tried=1
    until circle-node peer add "$URL/c/$2" --expect "$3" --data "$DATA" --circle "$1"; do
        [ "$tried" -lt "$TRIES" ] || fail "circle $1 could not add $2 as a peer"
        tried=$((tried + 1))
        sleep "$PAUSE"
    done
}

peer() {
    URL=${CIRCLE_NODE_URL:?is not set: the public URL of the host}
    URL=${URL%/}
    coop=$(trim "$(circles | head -n 1 | cut -d '|' -f 1)")
    [ -n "$coop" ] || fail "$LIST names no circle"
    coop_id=$(circle_id "$coop") || fail "the host holds no circle $coop: run found first"
    circles | tail -n +2 | cut -d '|' -f 1 | while read -r slug; do
        slug=$(trim "$slug")
        member_id=$(circle_id "$slug") || fail "the host holds no circle $slug: run found first"
        add_peer "$coop" "$slug" "$member_id"
        add_peer "$slug" "$coop" "$coop_id"
    done
}

[ -r "$LIST" ] || fail "cannot read the list of circles, $LIST"
case ${1:-} in
    found) found ;;
    peer) peer ;;
    *) fail "usage: circles.sh found|peer" ;;
esac
