"""`make bench`: every benchmark, one after the other, each printing its figures beside the
baselines it measured in the same run. `python -m bench pg`: only the workers on PostgreSQL."""

import sys

from bench import bench_tasks_page, bench_team_page, live_updates, throughput, webhooks

if __name__ == "__main__" and sys.argv[1:] == ["pg"]:
    throughput.main_postgres()
elif __name__ == "__main__":
    throughput.main()
    print()
    webhooks.main()
    print()
    bench_tasks_page.main()
    print()
    bench_team_page.main()
    print()
    live_updates.main()
