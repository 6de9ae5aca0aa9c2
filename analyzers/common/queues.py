"""Queues an application consumes, named in its configuration: SQS, JMS (ActiveMQ, Artemis,
WildFly's messaging), RabbitMQ and Kafka.

A worker names its queue somewhere it can be read without running it: Spring properties or
YAML (``spring.activemq.broker-url``, ``spring.rabbitmq.host``, ``spring.kafka.bootstrap-servers``,
Spring Cloud AWS's ``spring.cloud.aws.sqs.*`` / ``cloud.aws.sqs.*``, an application key holding an
SQS URL or ARN), JNDI resources (Tomcat's ``<Resource>`` of a JMS queue or an ActiveMQ factory,
WildFly's ``<jms-queue>``), .NET ``appsettings.json`` and ``web.config`` appSettings (``QueueUrl``,
``RabbitMQ:HostName``, ``Kafka:BootstrapServers``, MassTransit's and NServiceBus's transports),
``-D`` options and environment variables (Spring's relaxed names: ``SPRING_RABBITMQ_HOST``).

Pure functions over text and key/value maps: the caller reads the files through the Host. Each
entry is analysis.json's ``analysisInfo.workload.queues[]``: ``type`` (sqs, jms, rabbitmq,
kafka), ``name``, ``url`` (SQS), ``endpoint`` (the broker) and ``foundIn``. Credentials in a
broker URL are masked before they are recorded.
"""

from __future__ import annotations

import json
import re
from typing import Any, Iterable, Mapping
from urllib.parse import urlsplit

from a2c.analyzers.common.secrets import mask_value

MAX_KEYS = 10_000  # per file: a settings file with more keys than this is not read further
MAX_QUEUES = 50  # per application
MAX_JSON_DEPTH = 32

# https://sqs.<region>.amazonaws.com/<account>/<name>, the legacy <region>.queue.amazonaws.com, the
# FIPS and China endpoints, and a local stand-in's http://host:port/<account>/<name> (moto,
# LocalStack, ElasticMQ), which counts only where the key says it is a queue.
QUEUE_NAME = r"[A-Za-z0-9_-]{1,80}(?:\.fifo)?"
AWS_SQS_HOST = re.compile(r"(?:sqs(?:-fips)?\.([a-z]{2}(?:-[a-z]+)+-[0-9])|([a-z]{2}(?:-[a-z]+)+-[0-9])\.queue)"
                          r"\.amazonaws\.com(?:\.cn)?")
NAME_VALUE = r"[A-Za-z0-9][A-Za-z0-9_.:/-]{0,119}"  # a queue or topic name (jms/queue/orders, orders.fifo)
SQS_PATH = re.compile(rf"/([0-9]{{12}})/({QUEUE_NAME})/?")
SQS_ARN = re.compile(rf"arn:(aws[a-z-]*):sqs:([a-z]{{2}}(?:-[a-z]+)+-[0-9]):([0-9]{{12}}):({QUEUE_NAME})")
# JMS brokers' transports: ActiveMQ's OpenWire (tcp, nio, ssl, auto), failover:( … ), Artemis's tcp.
JMS_SCHEMES = ("tcp", "nio", "ssl", "nio+ssl", "auto", "auto+nio", "auto+ssl", "failover", "discovery", "static")
BROKER_WORDS = ("jms", "activemq", "artemis", "hornetq", "broker", "mq")
QUEUE_WORDS = ("queue", "queues", "queuename", "destination", "destinations", "topic", "topics")
DEFAULT_PORTS = {"jms": 61616, "rabbitmq": 5672, "kafka": 9092}
# NServiceBus / MassTransit transport names -> queue type.
TRANSPORTS = {"rabbitmq": "rabbitmq", "rabbitmqtransport": "rabbitmq", "sqs": "sqs", "amazonsqs": "sqs",
              "sqstransport": "sqs", "activemq": "jms", "kafka": "kafka"}


def queue(kind: str, found_in: str, *, name: str = "", url: str = "", endpoint: str = "") -> dict[str, str]:
    return {"type": kind, "name": name, "url": url, "endpoint": endpoint, "foundIn": found_in}


# -- values ------------------------------------------------------------------------------------
def parse_sqs_url(value: str, queue_key: bool = False) -> dict[str, str] | None:
    """name, account, region and url of an SQS queue URL; a URL on another host (a local stand-in)
    only when ``queue_key`` (its key says queue or sqs)."""
    value = value.strip()
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    path = SQS_PATH.fullmatch(parts.path)
    if path is None:
        return None
    aws = AWS_SQS_HOST.fullmatch(parts.hostname.lower())
    if aws is None and not queue_key:
        return None
    region = (aws.group(1) or aws.group(2)) if aws else ""
    return {"name": path.group(2), "account": path.group(1), "region": region,
            "url": f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}", "aws": "yes" if aws else ""}


def parse_sqs_arn(value: str) -> dict[str, str] | None:
    """An SQS queue ARN as the URL AWS gives that queue."""
    match = SQS_ARN.fullmatch(value.strip())
    if match is None:
        return None
    partition, region, account, name = match.groups()
    suffix = "amazonaws.com.cn" if partition == "aws-cn" else "amazonaws.com"
    return {"name": name, "account": account, "region": region, "url": f"https://sqs.{region}.{suffix}/{account}/{name}",
            "aws": "yes"}


def jms_endpoint(value: str) -> str:
    """A JMS broker URL (``tcp://host:61616``, ``failover:(tcp://a:61616,tcp://b:61616)?…``) with
    credentials masked; "" when it is not one (``vm://`` is an in-process broker, not a dependency)."""
    value = value.strip()
    scheme = value.split(":", 1)[0].lower()
    if scheme not in JMS_SCHEMES or ":" not in value:
        return ""
    hosts = broker_hosts(value)
    return mask_value(value) if hosts else ""


def broker_hosts(value: str) -> list[tuple[str, int]]:
    """(host, port) of every transport a broker URL names, failover's list included."""
    found = []
    for match in re.finditer(r"[a-z+]+://(?:[^@/\s,()]*@)?(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+)(?::([0-9]{1,5}))?",
                             value):
        found.append((match.group(1), int(match.group(2)) if match.group(2) else 0))
    return found


def amqp_endpoint(value: str) -> str:
    value = value.strip()
    return mask_value(value) if re.match(r"amqps?://[^\s]+", value) else ""


def host_list(value: str, default_port: int) -> str:
    """``host:port[,host:port]`` (Kafka's bootstrap servers, RabbitMQ's addresses), each with a port."""
    items = []
    for item in re.split(r"[,;\s]+", value.strip()):
        item = item.split("://", 1)[-1].rpartition("@")[2].strip("/")
        if not item or not re.fullmatch(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+)(:[0-9]{1,5})?", item):
            continue
        items.append(item if re.search(r":[0-9]+$", item) and not item.endswith("]") else f"{item}:{default_port}")
    return ",".join(items)


# -- keys --------------------------------------------------------------------------------------
def key_words(key: str) -> tuple[str, ...]:
    """A settings key as lower-case words: ``AWS:SQS:QueueUrl``, ``aws.sqs.queue-url`` and
    ``AWS_SQS_QUEUE_URL`` are all (aws, sqs, queue, url)."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", key)
    spaced = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1 \2", spaced)
    return tuple(w for w in re.split(r"[^A-Za-z0-9]+", spaced.lower()) if w)


def _joined(words: tuple[str, ...]) -> str:
    return "".join(words)


def _says_queue(words: tuple[str, ...]) -> bool:
    joined = _joined(words)
    return "sqs" in joined or "queue" in joined


def _broker_type(words: tuple[str, ...]) -> str:
    """The broker a key belongs to by its words ("" when it names none)."""
    joined = _joined(words)
    if "rabbit" in joined:
        return "rabbitmq"
    if "kafka" in joined:
        return "kafka"
    if "sqs" in joined:
        return "sqs"
    if any(w in words for w in BROKER_WORDS) or any(w in joined for w in ("activemq", "artemis", "hornetq", "jms")):
        return "jms"
    return ""


def from_settings(values: Mapping[str, Any], found_in: str) -> list[dict[str, str]]:
    """Queues in one source's key/value settings (properties, flattened YAML or JSON, appSettings,
    -D options, environment variables)."""
    entries: list[dict[str, str]] = []
    names: list[tuple[str, str]] = []  # (broker type or "", queue name) from keys that name a queue
    hosts: dict[tuple[str, tuple[str, ...]], dict[str, str]] = {}  # (type, key prefix) -> host / port
    for count, (key, raw) in enumerate(values.items()):
        if count >= MAX_KEYS:
            break
        value = str(raw).strip()
        if not value or value.startswith("${") or len(value) > 4096:
            continue
        words = key_words(str(key))
        kind = _broker_type(words)
        sqs = parse_sqs_url(value, _says_queue(words)) or parse_sqs_arn(value)
        if sqs is not None:
            entries.append(queue("sqs", found_in, name=sqs["name"], url=sqs["url"]))
            continue
        last = words[-1] if words else ""
        tail = _joined(words[-2:])
        if value.lower().startswith(("amqp://", "amqps://")):
            entries.append(queue("jms" if kind == "jms" else "rabbitmq", found_in, endpoint=amqp_endpoint(value)))
        elif jms_endpoint(value) and (kind == "jms" or value.lower().startswith("failover:")
                                      or any(port == 61616 for _, port in broker_hosts(value))):
            entries.append(queue("jms", found_in, endpoint=jms_endpoint(value)))
        elif kind == "kafka" and (tail in ("bootstrapservers", "bootstrapserver") or last in ("brokers", "servers")):
            listed = host_list(value, 9092)
            if listed:
                entries.append(queue("kafka", found_in, endpoint=listed))
        elif kind in ("rabbitmq", "jms") and tail in ("hostname", "servername"):
            hosts.setdefault((kind, words[:-2]), {})["host"] = value
        elif kind in ("rabbitmq", "jms") and last in ("host", "hostname", "addresses", "server", "servers"):
            hosts.setdefault((kind, words[:-1]), {})["host"] = value
        elif kind in ("rabbitmq", "jms") and last == "port" and re.fullmatch(r"[0-9]{1,5}", value):
            hosts.setdefault((kind, words[:-1]), {})["port"] = value
        elif "transport" in words and re.sub(r"[^a-z]", "", value.lower()) in TRANSPORTS:
            entries.append(queue(TRANSPORTS[re.sub(r"[^a-z]", "", value.lower())], found_in))
        elif (last in QUEUE_WORDS or tail in ("queuename", "queueurl", "defaultdestination")) \
                and re.fullmatch(NAME_VALUE, value) and "://" not in value:
            names.append((kind, value))
    for (kind, _prefix), parts in hosts.items():
        host = parts.get("host", "")
        if not host:
            continue
        scheme = "amqp" if kind == "rabbitmq" else "tcp"
        listed = host_list(host, int(parts.get("port") or DEFAULT_PORTS[kind]))
        endpoint = ",".join(f"{scheme}://{item}" for item in listed.split(",") if item)
        if endpoint:
            entries.append(queue(kind, found_in, endpoint=endpoint))
    return _with_names(entries, names, found_in)


def _with_names(entries: list[dict[str, str]], names: list[tuple[str, str]], found_in: str) -> list[dict[str, str]]:
    """Queue names found beside a broker become its entries' names: a key that names its broker
    goes to that broker; one that names none goes to the source's only broker (SQS: a name alone
    is a queue of its own)."""
    kinds = list(dict.fromkeys(e["type"] for e in entries))
    result = list(entries)
    for kind, name in names:
        target = kind or (kinds[0] if len(kinds) == 1 else "")
        if not target:
            continue
        nameless = [e for e in result if e["type"] == target and not e["name"]]
        if nameless:
            for entry in nameless:
                entry["name"] = name
            continue
        template = next((e for e in result if e["type"] == target), None)
        if template is not None:
            result.append({**template, "name": name})
        elif target == "sqs" and "/" not in name:
            result.append(queue("sqs", found_in, name=name))
    return result


# -- files -------------------------------------------------------------------------------------
def flatten_json(text: str) -> dict[str, str]:
    """appsettings.json as .NET's configuration keys (``AWS:SQS:QueueUrl``); {} when it does not parse."""
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):
        return {}
    flat: dict[str, str] = {}
    pending: list[tuple[Any, str, int]] = [(document, "", 0)]
    while pending and len(flat) < MAX_KEYS:
        node, prefix, depth = pending.pop()
        if isinstance(node, dict) and depth < MAX_JSON_DEPTH:
            pending.extend((v, f"{prefix}:{k}" if prefix else str(k), depth + 1) for k, v in reversed(node.items()))
        elif isinstance(node, list) and depth < MAX_JSON_DEPTH:
            pending.extend((v, f"{prefix}:{i}", depth + 1) for i, v in reversed(list(enumerate(node))))
        elif node is not None and not isinstance(node, (dict, list)):
            flat[prefix] = str(node).lower() if isinstance(node, bool) else str(node)
    return flat


def from_xml(data: bytes, found_in: str) -> list[dict[str, str]]:
    """JNDI and .NET XML: Tomcat ``<Resource>`` elements (a JMS queue's ``physicalName``, an
    ActiveMQ factory's ``brokerURL``), WildFly's ``<jms-queue>``, and ``web.config`` /
    ``app.config`` appSettings read like any settings. An unsafe or broken file gives []."""
    from a2c.analyzers.common.safexml import UnsafeXML, local_name, parse_xml

    try:
        root = parse_xml(data, found_in)
    except UnsafeXML:
        return []
    entries: list[dict[str, str]] = []
    brokers: list[str] = []
    queues: list[str] = []
    for count, element in enumerate(root.iter()):
        if count > MAX_KEYS:
            break
        tag = local_name(element)
        attributes = {str(k).rpartition("}")[2]: str(v) for k, v in element.attrib.items()}
        if tag == "Resource":
            kind = attributes.get("type", "") + " " + attributes.get("factory", "")
            if re.search(r"(?i)\b(?:javax|jakarta)\.jms\.(?:Queue|Topic)\b|ActiveMQ(?:Queue|Topic)\b", kind):
                queues.append(attributes.get("physicalName") or attributes.get("name", "").rpartition("/")[2])
            url = attributes.get("brokerURL") or attributes.get("brokerUrl") or ""
            if url and jms_endpoint(url):
                brokers.append(jms_endpoint(url))
            elif url and amqp_endpoint(url):
                brokers.append(amqp_endpoint(url))
        elif tag == "jms-queue" and attributes.get("name"):
            queues.append(attributes["name"])
    for broker in brokers or ([""] if queues else []):
        for name in queues or [""]:
            entries.append(queue("jms", found_in, name=name, endpoint=broker))
    return entries + from_settings(_app_settings(data, found_in), found_in)


def read_settings(path: str, data: bytes) -> dict[str, str]:
    """A configuration file's key/value settings, read by its kind (by name): properties, YAML
    (Spring's dotted keys), JSON (.NET's ``A:B`` keys), XML appSettings; {} for anything else."""
    from a2c.analyzers.common.properties import parse_properties, parse_yaml_flat
    from a2c.hosts.base import decode_text

    lowered = path.lower()
    if lowered.endswith((".xml", ".config")):
        return _app_settings(data, path)
    text = decode_text(data)
    if lowered.endswith((".yml", ".yaml")):
        return parse_yaml_flat(text)
    if lowered.endswith(".json"):
        return flatten_json(text)
    if lowered.endswith((".properties", ".env", ".conf", ".cfg", ".ini")):
        return parse_properties(text)
    return {}


def _app_settings(data: bytes, found_in: str) -> dict[str, str]:
    from a2c.analyzers.common.safexml import UnsafeXML, local_name, parse_xml

    try:
        root = parse_xml(data, found_in)
    except UnsafeXML:
        return {}
    settings: dict[str, str] = {}
    for count, element in enumerate(root.iter()):
        if count > MAX_KEYS:
            break
        if local_name(element) == "add" and "key" in element.attrib and "value" in element.attrib:
            settings[str(element.attrib["key"])] = str(element.attrib["value"])
    return settings


def from_file(path: str, data: bytes) -> list[dict[str, str]]:
    """Queues in one configuration file, read by its kind (by name)."""
    if path.lower().endswith((".xml", ".config")):
        return from_xml(data, path)
    return from_settings(read_settings(path, data), path)


def from_command_line(cmdline: Iterable[str]) -> list[dict[str, str]]:
    """``-Dkey=value`` options and ``--key=value`` arguments (Spring Boot's command-line properties)."""
    values: dict[str, str] = {}
    for arg in cmdline:
        match = re.fullmatch(r"(?:-D|--)([A-Za-z0-9_.\[\]:-]+)=(.*)", arg, re.S)
        if match:
            values[match.group(1)] = match.group(2)
    return from_settings(values, "command line")


def from_environment(environ: Mapping[str, str]) -> list[dict[str, str]]:
    return from_settings(dict(environ), "environment")


def from_connections(connections: Iterable[Any]) -> list[dict[str, str]]:
    """Brokers seen on the wire only (ActiveMQ's 61616, AMQP's 5672/5671, Kafka's 9092), for when
    no configuration names them."""
    found = []
    for conn in connections:
        kind = {61616: "jms", 5672: "rabbitmq", 5671: "rabbitmq", 9092: "kafka"}.get(getattr(conn, "remote_port", 0))
        if kind:
            address = str(conn.remote_address).removeprefix("::ffff:")
            address = f"[{address}]" if ":" in address else address
            scheme = {"jms": "tcp://", "rabbitmq": "amqp://", "kafka": ""}[kind]
            found.append(queue(kind, "established connection", endpoint=f"{scheme}{address}:{conn.remote_port}"))
    return found


def merge(groups: Iterable[Iterable[dict[str, str]]]) -> list[dict[str, str]]:
    """One entry per (type, name, url, endpoint), the first place it was found; a nameless entry
    of a broker that also has named ones is dropped, and connections only count for brokers no
    configuration named."""
    merged: list[dict[str, str]] = []
    seen: set[tuple[str, str, str, str]] = set()
    for entry in (e for group in groups for e in group):
        key = (entry["type"], entry["name"], entry["url"], entry["endpoint"])
        if key not in seen and len(merged) < MAX_QUEUES:
            seen.add(key)
            merged.append(entry)
    named = {(e["type"], e["endpoint"]) for e in merged if e["name"] or e["url"]}
    configured = {_hosts_of(e) for e in merged if e["foundIn"] != "established connection"}
    return [e for e in merged if not (not e["name"] and not e["url"] and (e["type"], e["endpoint"]) in named)
            and not (e["foundIn"] == "established connection" and any(_hosts_of(e) & c for c in configured))]


def _hosts_of(entry: Mapping[str, str]) -> frozenset[tuple[str, int]]:
    return frozenset((h.strip("[]"), p) for h, p in broker_hosts(entry["endpoint"]) or
                     [(i.rpartition(":")[0], int(i.rpartition(":")[2] or 0)) for i in entry["endpoint"].split(",")
                      if re.search(r":[0-9]+$", i)])
