# bench/offered-load.gp: achieved throughput and receipt latency vs offered load (bench/plot's
# first sweep). bench/plot runs it; by hand:
#   gnuplot -e "datafile='bench/plots/offered-load.tsv'; outfile='bench/plots/offered-load.png'" bench/offered-load.gp
# Columns of the data: offered lists/s, achieved lists/s, documents/s, p50 µs, p99 µs, p99.9 µs
# (per group of 100 sets), errors, p50 µs and p99 µs per receipt (one message); the first three
# comment lines say when, where and how long each point ran.
if (!exists("datafile")) datafile = 'bench/plots/offered-load.tsv'
if (!exists("outfile")) outfile = 'bench/plots/offered-load.png'
note = system("grep '^#' '".datafile."' | head -3 | sed 's/^# //'")

set terminal pngcairo size 1200,1000 font "DejaVu Sans,11"
set termoption noenhanced
set output outfile
set datafile separator "\t"
set multiplot layout 2,1 margins 0.08,0.97,0.06,0.86 spacing 0,0.09 title "cbec over HTTP, open loop: CEB XML messages of 100 records, every receipt after group-committed fdatasync\n".note font ",10"
set grid
set key top left box opaque
stats datafile using 1 nooutput
set xrange [0:STATS_max * 1.08]
set xlabel "offered load (lists/s)"
set ylabel "achieved throughput (lists/s)"
set yrange [0:*]
plot datafile using 1:2 with linespoints lw 2 pt 7 ps 1.2 title "lists cleared per second", \
     x with lines dt 2 lc rgb "gray50" title "achieved = offered"
set ylabel "receipt latency (ms, log scale)"
set logscale y
set yrange [*:*]
set key top left
plot datafile using 1:($5 / 1000.0) with linespoints lw 2 pt 7 ps 1.2 title "p99 per group of 100 sets (4 messages, one after the other)", \
     datafile using 1:($4 / 1000.0) with linespoints lw 2 pt 5 ps 1.2 title "p50 per group", \
     datafile using 1:($9 / 1000.0) with linespoints lw 2 pt 9 ps 1.2 title "p99 per receipt (one message of 100 records)", \
     datafile using 1:($8 / 1000.0) with linespoints lw 2 pt 11 ps 1.2 title "p50 per receipt", \
     20 with lines dt 2 lw 2 lc rgb "red" title "issue #6 target: p99 <= 20 ms (at 80 % of max throughput)"
unset multiplot
