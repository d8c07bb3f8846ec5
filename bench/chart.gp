# gnuplot -e "datafile='...'; outfile='...'[; curvefile='...']" bench/chart.gp
# Top: one bar per figure and peer: how many times better relay is than the
# peer (peer/relay for times and memory, relay/peer for msg/s), log scale.
# Below, when curvefile is given and holds points: relay's growth curves
# (fig_curves in bench/run), log-log; linear growth is a line of slope 1
# for times (slope 0 for the drain rate).
havecurves = exists("curvefile") ? 1 : 0
set terminal pngcairo size 1400,(havecurves ? 1120 : 620) font "DejaVu Sans,10"
set output outfile
if (havecurves) { set multiplot; set size 1,0.55; set origin 0,0.45 }
set title "relay compared with each peer (> 1: relay better, < 1: the peer better; log scale)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set logscale y 10
set yrange [0.05:*]
set grid ytics
set ylabel "times better"
set xtics rotate by -25 left noenhanced
set key top right noenhanced
set datafile missing "NaN"
set arrow 1 from graph 0, first 1 to graph 1, first 1 nohead lw 2 lc rgb "black"
set bmargin 9
set rmargin 14
plot datafile using 2:xtic(1) title "vs postfix" lc rgb "#1f77b4", \
     '' using 3 title "vs nullmailer" lc rgb "#ff7f0e", \
     '' using 4 title "vs dma" lc rgb "#2ca02c"
if (havecurves) {
  unset arrow 1
  set style data linespoints
  set logscale xy 10
  set yrange [*:*]
  set xtics norotate
  set format x "10^{%L}"
  set bmargin 4
  set rmargin 9
  set key top left
  set size 0.333,0.45
  set origin 0,0
  set title "queue size"
  set xlabel "queued entries"
  set ylabel "seconds"
  set y2label "msg/s"
  set y2tics
  set logscale y2 10
  plot curvefile index 0 using 1:2 title "mailq" lw 2, \
       '' index 1 using 1:2 title "--once to first message" lw 2, \
       '' index 2 using 1:2 axes x1y2 title "drain rate (right axis)" lw 2
  unset y2tics; unset y2label; unset logscale y2
  set origin 0.333,0
  set title "message size"
  set xlabel "bytes"
  set ylabel "seconds"
  plot curvefile index 3 using 1:2 title "injection" lw 2
  set origin 0.666,0
  set title "recipients per message"
  set xlabel "recipients"
  plot curvefile index 4 using 1:2 title "injection" lw 2, \
       '' index 5 using 1:2 title "delivery" lw 2
  unset multiplot
}
