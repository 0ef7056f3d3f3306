package sim_test
import ("context";"fmt";"testing";"os";"strconv"
 "github.com/mcbench/mcbench/scenarios";"github.com/mcbench/mcbench/sim";"github.com/mcbench/mcbench/sim/queueing")
func TestProbe2(t *testing.T){
  f:=os.Getenv("PF"); reps,_:=strconv.Atoi(os.Getenv("PR"))
  s,err:=scenarios.Load(f); if err!=nil{t.Fatal(err)}
  for seed:=uint64(1); seed<=3; seed++ {
  s.Seed=seed*1000+7; s.Replications=reps
  sum,err:=sim.Run(context.Background(),s,sim.Options{}); if err!=nil{t.Fatal(err)}
  r:=sum.Results[0]
  var mw,pw,p99,bl,p99w []float64
  for _,p:=range r.PerReplication{mw=append(mw,p.MeanWait);pw=append(pw,p.PWait);p99=append(p99,p.P99E2E);p99w=append(p99w,p.P99Wait);bl=append(bl,float64(p.Rejected)/float64(p.Requests))}
  fmt.Printf("seed %d\n Wq %v\n Pw %v\n T99 %v\n W99 %v\n B %v\n",s.Seed,queueing.CI95(mw),queueing.CI95(pw),queueing.CI95(p99),queueing.CI95(p99w),queueing.CI95(bl))
  }
}
