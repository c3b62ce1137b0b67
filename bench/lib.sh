# bench/lib.sh: helpers the benchmark scripts source.

# median RAW NAME UNIT: the median of the value before UNIT (ns/op,
# allocs/op, B/op, a custom metric) over every run of benchmark NAME in the
# raw `go test -bench` output RAW; fails when there is none.
median() {
	awk -v name="$2" -v unit="$3" '
		{ sub(/-[0-9]+$/, "", $1) }
		$1 == name { for (i = 2; i <= NF; i++) if ($i == unit) print $(i - 1) }
	' "$1" | sort -g | awk '
		{ v[NR] = $1 }
		END {
			if (NR == 0) exit 1
			printf "%.2f\n", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		}'
}
