"""`make bench`: every benchmark, one after the other, each printing its figures beside the
baselines it measured in the same run."""

from bench import bench_tasks_page, live_updates, throughput, webhooks

if __name__ == "__main__":
    throughput.main()
    print()
    webhooks.main()
    print()
    bench_tasks_page.main()
    print()
    live_updates.main()
