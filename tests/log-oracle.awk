# An independent reading of a clean BuildKit plain or legacy-builder log (the
# bundled samples), for tests/conformance.sh: one line per Dockerfile step,
#   index  count  stage  text  status  duration*10 (or -)
# sorted by the caller. Deliberately simple: no interleaving heuristics.
BEGIN { FS = "\n" }
# --- BuildKit: "#N [stage i/n] TEXT" headers, then CACHED / DONE x / ERROR
/^#[0-9]+ \[[^]]*[0-9]+\/[0-9]+\] / {
    n = substr($0, 2, index($0, " ") - 2)
    if (n in text) next
    hdr = substr($0, index($0, "[") + 1); br = index(hdr, "]")
    inner = substr(hdr, 1, br - 1); rest = substr(hdr, br + 2)
    k = split(inner, w, " "); split(w[k], ic, "/")
    stage = "-"; for (j = 1; j < k; j++) stage = (stage == "-" ? w[j] : stage " " w[j])
    order[++norder] = n; text[n] = rest; idx[n] = ic[1]; cnt[n] = ic[2]; st[n] = stg = stage
    status[n] = "incomplete"; dur[n] = "-"
    next
}
/^#[0-9]+ CACHED$/ { n = substr($1, 2, index($0, " ") - 2); status[n] = "cached"; dur[n] = "-"; next }
/^#[0-9]+ DONE [0-9.]+s$/ {
    n = substr($0, 2, index($0, " ") - 2); split($0, p, " "); d = p[3]; sub(/s$/, "", d)
    status[n] = "done"; dur[n] = sprintf("%d", d * 10 + 0.5); next
}
/^#[0-9]+ ERROR/ { n = substr($0, 2, index($0, " ") - 2); status[n] = "error"; next }
# --- legacy: "Step i/n : TEXT", " ---> Using cache", " ---> <id>", failure
/^Step [0-9]+\/[0-9]+ : / {
    split($0, p, " "); split(p[2], ic, "/")
    t = substr($0, index($0, " : ") + 3)
    cur = "L" ic[1]; order[++norder] = cur; text[cur] = t; idx[cur] = ic[1]; cnt[cur] = ic[2]
    if (t ~ /^FROM /) {
        nfrom++; m = split(t, fw, " ")
        lstage = (m >= 4 && toupper(fw[m - 1]) == "AS") ? fw[m] : (nfrom > 1 ? "stage-" (nfrom - 1) : "-")
    }
    st[cur] = lstage; status[cur] = "incomplete"; dur[cur] = "-"; cached = 0
    next
}
/^ ---> Using cache$/ { status[cur] = "cached"; cached = 1; next }
/^ ---> (Running in|Removed intermediate)/ { next }
/^ ---> / { if (!cached) status[cur] = "done"; next }
/returned a non-zero code/ { status[cur] = "error"; next }
END {
    for (i = 1; i <= norder; i++) {
        n = order[i]
        printf "%s\t%s\t%s\t%s\t%s\t%s\n", idx[n], cnt[n], st[n], text[n], status[n], dur[n]
    }
}
