"""`make bench`: every benchmark, one after the other, each printing its figures."""

from bench import bench_pipeline, bench_tasks_page

if __name__ == "__main__":
    bench_pipeline.main()
    print()
    bench_tasks_page.main()
