# bench/history.gp: the core's cost per list, p99 and RSS as the stored lists grow (bench/history,
# cbec-history-bench). By hand:
#   gnuplot -e "datafile='bench/plots/history.tsv'; outfile='bench/plots/history.png'" bench/history.gp
# Columns: stored lists, log days, lists/s (apply, wall), apply CPU µs per list, store µs per list,
# p50, p99, max µs of a 100-list message's apply, RSS MiB, archive MiB, store MiB, lists in memory,
# MiB RocksDB holds (block cache in use, memtables, table readers; absent in older files);
# the comment lines at the top say when, where and how it ran.
if (!exists("datafile")) datafile = 'bench/plots/history.tsv'
if (!exists("outfile")) outfile = 'bench/plots/history.png'
note = system("grep '^#' '".datafile."' | head -3 | sed 's/^# //'")

set terminal pngcairo size 1200,1400 font "DejaVu Sans,11"
set termoption noenhanced
set output outfile
set datafile separator "\t"
set multiplot layout 3,1 margins 0.09,0.91,0.05,0.88 spacing 0,0.07 title "cbec core over its RocksDB archive (as cbec serve runs it) as the stored history grows\n".note font ",10"
set grid
set key bottom left box opaque
set xlabel "lists stored before (millions)"
set xrange [0:*]
set ylabel "lists cleared per second (apply stage)"
set yrange [0:*]
set y2label "apply CPU per list (µs)"
set y2range [0:*]
set y2tics
plot datafile using ($1 / 1e6):3 with linespoints lw 2 pt 7 ps 1 title "lists/s", \
     datafile using ($1 / 1e6):4 axes x1y2 with linespoints lw 2 pt 5 ps 1 title "apply CPU µs per list (right axis)"
unset y2label
unset y2tics
set ylabel "apply of one 100-list message (ms)"
plot datafile using ($1 / 1e6):($7 / 1000.0) with linespoints lw 2 pt 7 ps 1 title "p99", \
     datafile using ($1 / 1e6):($6 / 1000.0) with linespoints lw 2 pt 5 ps 1 title "p50"
set ylabel "MiB"
set key top left box opaque
set offsets 0, 0, graph 0.45, 0  # room above the curves for the key
plot datafile using ($1 / 1e6):9 with linespoints lw 2 pt 7 ps 1 title "RSS of the process (core, generator, RocksDB caches)", \
     datafile using ($1 / 1e6):13 with linespoints lw 2 pt 13 ps 1 title "of which RocksDB (block cache in use, memtables, table readers)", \
     datafile using ($1 / 1e6):($10 / 10) with linespoints lw 2 pt 5 ps 1 title "archive on disk / 10", \
     datafile using ($1 / 1e6):($11 / 10) with linespoints lw 2 pt 9 ps 1 title "receipt store on disk / 10"
unset multiplot
