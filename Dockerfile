# The grading image: CPU torch, the dlgrade engine and this course, run as a non-root user.
# Build and use (docs/batch.md, "Container image"):
#   docker build -t dlgrade .
#   docker run --rm --network none \
#       -v "$PWD/submission:/submission:ro" -v "$PWD/results:/results" dlgrade
# writes /results/result.json; any `grade` command works too, e.g.
#   docker run --rm --network none -v "$PWD/subs:/subs:ro" -v "$PWD/out:/results" dlgrade \
#       batch /subs --csv /results/grades.csv
FROM python:3.11-slim

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

# The engine, with the exact versions of constraints.txt; torch from its CPU index (no CUDA).
WORKDIR /opt/dlgrade
COPY pyproject.toml README.md LICENSE constraints.txt ./
COPY src ./src
RUN python -m pip install --extra-index-url https://download.pytorch.org/whl/cpu \
        -c constraints.txt /opt/dlgrade \
    && rm -rf /opt/dlgrade/build /opt/dlgrade/src/*.egg-info

# The course: what `grade` reads (the same parts as `grade gradescope build` ships).
COPY course.toml /course/course.toml
COPY exercises /course/exercises
COPY graders /course/graders
COPY reference /course/reference
COPY mistakes /course/mistakes

# A non-root user owns nothing but the results folder. Student code runs, as always, in
# grade's sandbox workers (docs/sandbox.md); run the container with --network none.
RUN useradd --create-home --uid 10001 --user-group grader \
    && mkdir -p /submission /results && chown grader:grader /results
USER 10001:10001
WORKDIR /course
RUN grade list >/dev/null

ENTRYPOINT ["grade"]
CMD ["--submission", "/submission", "--format", "json", "--output", "/results/result.json"]
