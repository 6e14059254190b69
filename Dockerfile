FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml README.md ./
RUN pip install --no-cache-dir .
COPY . .
RUN useradd --create-home csat && mkdir -p /var/lib/csat && chown csat /var/lib/csat
USER csat
EXPOSE 8000
CMD ["gunicorn", "csat_platform.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3"]
