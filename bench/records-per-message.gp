# bench/records-per-message.gp: throughput (flat out) and receipt latency (open loop) vs records
# per CEB message (bench/plot's second sweep). bench/plot runs it; by hand:
#   gnuplot -e "datafile='bench/plots/records-per-message.tsv'; outfile='bench/plots/records-per-message.png'" bench/records-per-message.gp
# Columns: records/message, flat-out lists/s, flat-out documents/s, open-loop lists/s, open-loop
# p50 µs, open-loop p99 µs (per group), errors (flat out), errors (open loop), open-loop p99 µs per
# receipt (one message); the first four comment lines say when, where, how long and at what
# offered rate.
if (!exists("datafile")) datafile = 'bench/plots/records-per-message.tsv'
if (!exists("outfile")) outfile = 'bench/plots/records-per-message.png'
if (!exists("rpm_rate")) rpm_rate = 500
note = system("grep '^#' '".datafile."' | head -4 | sed 's/^# //'")

set terminal pngcairo size 1200,1000 font "DejaVu Sans,11"
set termoption noenhanced
set output outfile
set datafile separator "\t"
set multiplot layout 2,1 margins 0.08,0.97,0.06,0.86 spacing 0,0.09 title "cbec over HTTP vs records per CEB XML message (every receipt after group-committed fdatasync)\n".note font ",10"
set grid
set logscale x
set xrange [0.7:150]
set xtics (1, 2, 5, 10, 20, 50, 100)
set xlabel "records per message"
set key top left box opaque
set ylabel "flat-out throughput (per second)"
set yrange [0:*]
plot datafile using 1:3 with linespoints lw 2 pt 7 ps 1.2 title "documents/s (order, payment, waybill, list)", \
     datafile using 1:2 with linespoints lw 2 pt 5 ps 1.2 title "lists/s"
set ylabel "receipt latency (ms, log scale)"
set logscale y
set yrange [*:*]
plot datafile using 1:($6 / 1000.0) with linespoints lw 2 pt 7 ps 1.2 title sprintf("p99 per group of sets, open loop at %d lists/s offered", rpm_rate), \
     datafile using 1:($5 / 1000.0) with linespoints lw 2 pt 5 ps 1.2 title sprintf("p50 per group, open loop at %d lists/s offered", rpm_rate), \
     datafile using 1:($9 / 1000.0) with linespoints lw 2 pt 9 ps 1.2 title "p99 per receipt (one message), same runs", \
     20 with lines dt 2 lw 2 lc rgb "red" title "issue #6 target: p99 <= 20 ms"
unset multiplot
