"""Queues named in configuration (analyzers/common/queues.py): Spring properties and YAML, JNDI
resources, WildFly's messaging subsystem, .NET appsettings.json and web.config, -D options and
environment variables; SQS URLs and ARNs parsed, broker URLs with their credentials masked."""

from __future__ import annotations

import pytest

from a2c.analyzers.common import queues
from a2c.model import Connection


def _short(entries):
    return sorted((e["type"], e["name"], e["url"], e["endpoint"]) for e in entries)


@pytest.mark.parametrize("settings, expected", [
    ({"app.queue.url": "https://sqs.eu-west-1.amazonaws.com/123456789012/orders"},
     [("sqs", "orders", "https://sqs.eu-west-1.amazonaws.com/123456789012/orders", "")]),
    ({"orders.queue-arn": "arn:aws:sqs:us-east-2:123456789012:billing.fifo"},
     [("sqs", "billing.fifo", "https://sqs.us-east-2.amazonaws.com/123456789012/billing.fifo", "")]),
    ({"cloud.aws.sqs.listener.queue-url": "https://eu-west-1.queue.amazonaws.com/123456789012/legacy"},
     [("sqs", "legacy", "https://eu-west-1.queue.amazonaws.com/123456789012/legacy", "")]),
    # a local stand-in (moto, LocalStack) counts where the key says queue
    ({"worker.sqs.queue-url": "http://127.0.0.1:4566/000000000000/jobs"},
     [("sqs", "jobs", "http://127.0.0.1:4566/000000000000/jobs", "")]),
    ({"report.url": "http://127.0.0.1:4566/000000000000/jobs"}, []),
    ({"spring.activemq.broker-url": "failover:(tcp://mq1:61616,tcp://mq2:61616)?randomize=false",
      "spring.jms.template.default-destination": "invoices"},
     [("jms", "invoices", "", "failover:(tcp://mq1:61616,tcp://mq2:61616)?randomize=false")]),
    ({"spring.artemis.broker-url": "tcp://artemis:61616"}, [("jms", "", "", "tcp://artemis:61616")]),
    ({"spring.artemis.host": "artemis", "spring.artemis.port": "61617"}, [("jms", "", "", "tcp://artemis:61617")]),
    ({"spring.rabbitmq.host": "rabbit", "spring.rabbitmq.port": "5673", "app.rabbitmq.queue": "jobs"},
     [("rabbitmq", "jobs", "", "amqp://rabbit:5673")]),
    ({"spring.rabbitmq.addresses": "amqp://app:s3cret@r1:5672"}, [("rabbitmq", "", "", "amqp://app:****@r1:5672")]),
    ({"spring.kafka.bootstrap-servers": "k1:9092,k2", "spring.kafka.consumer.topic": "events"},
     [("kafka", "events", "", "k1:9092,k2:9092")]),
    ({"spring.cloud.stream.kafka.binder.brokers": "k1:9093"}, [("kafka", "", "", "k1:9093")]),
    # .NET keys
    ({"AWS:SQS:QueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/payments"},
     [("sqs", "payments", "https://sqs.us-east-1.amazonaws.com/123456789012/payments", "")]),
    ({"RabbitMQ:HostName": "mq.internal", "RabbitMQ:Port": "5672", "RabbitMQ:QueueName": "emails"},
     [("rabbitmq", "emails", "", "amqp://mq.internal:5672")]),
    ({"Kafka:BootstrapServers": "broker-1:9092"}, [("kafka", "", "", "broker-1:9092")]),
    ({"MassTransit:RabbitMq:Host": "rabbit"}, [("rabbitmq", "", "", "amqp://rabbit:5672")]),
    ({"NServiceBus:Transport": "RabbitMQ"}, [("rabbitmq", "", "", "")]),
    # environment variables in Spring's relaxed names
    ({"SPRING_RABBITMQ_HOST": "rabbit"}, [("rabbitmq", "", "", "amqp://rabbit:5672")]),
    # not queues
    ({"server.url": "tcp://metrics:2003", "spring.datasource.url": "jdbc:postgresql://db/app",
      "app.queue.name": "${QUEUE_NAME}"}, []),
])
def test_settings_name_their_queues(settings, expected):
    assert _short(queues.from_settings(settings, "/opt/app/application.properties")) == sorted(expected)


def test_every_entry_says_where_it_was_found():
    (entry,) = queues.from_settings({"app.queue.url": "https://sqs.eu-west-1.amazonaws.com/123456789012/o"}, "/a.yml")
    assert entry == {"type": "sqs", "name": "o", "url": "https://sqs.eu-west-1.amazonaws.com/123456789012/o",
                     "endpoint": "", "foundIn": "/a.yml"}


@pytest.mark.parametrize("value, parsed", [
    ("https://sqs.us-east-1.amazonaws.com/123456789012/orders", ("orders", "123456789012", "us-east-1")),
    ("https://sqs-fips.us-gov-west-1.amazonaws.com/123456789012/o.fifo", ("o.fifo", "123456789012", "us-gov-west-1")),
    ("https://sqs.cn-north-1.amazonaws.com.cn/123456789012/cn", ("cn", "123456789012", "cn-north-1")),
    ("https://sqs.us-east-1.amazonaws.com/12345/orders", None),
    ("https://evil.example/123456789012/orders", None),
    ("ftp://sqs.us-east-1.amazonaws.com/123456789012/orders", None),
])
def test_sqs_urls(value, parsed):
    result = queues.parse_sqs_url(value)
    assert (result and (result["name"], result["account"], result["region"])) == (parsed or None)


def test_sqs_arn_becomes_the_queue_url():
    assert queues.parse_sqs_arn("arn:aws-cn:sqs:cn-north-1:123456789012:q")["url"] == \
        "https://sqs.cn-north-1.amazonaws.com.cn/123456789012/q"
    assert queues.parse_sqs_arn("arn:aws:sns:us-east-1:123456789012:q") is None


def test_tomcat_jndi_resources_name_the_queue_and_the_broker():
    context = b"""<Context>
      <Resource name="jms/ConnectionFactory" auth="Container" type="org.apache.activemq.ActiveMQConnectionFactory"
                factory="org.apache.activemq.jndi.JNDIReferenceFactory" brokerURL="tcp://mq.internal:61616"/>
      <Resource name="jms/queue/Orders" auth="Container" type="org.apache.activemq.command.ActiveMQQueue"
                factory="org.apache.activemq.jndi.JNDIReferenceFactory" physicalName="ORDERS.IN"/>
      <Resource name="jms/Replies" type="jakarta.jms.Queue" physicalName="REPLIES"/>
    </Context>"""
    found = queues.from_xml(context, "/opt/tomcat/conf/context.xml")
    assert _short(found) == [("jms", "ORDERS.IN", "", "tcp://mq.internal:61616"),
                             ("jms", "REPLIES", "", "tcp://mq.internal:61616")]


def test_wildfly_messaging_queues():
    standalone = b"""<server xmlns="urn:jboss:domain:20.0"><profile>
      <subsystem xmlns="urn:jboss:domain:messaging-activemq:13.0"><server name="default">
        <jms-queue name="ExpiryQueue" entries="java:/jms/queue/ExpiryQueue"/>
        <jms-queue name="Orders" entries="java:/jms/queue/Orders"/>
      </server></subsystem></profile></server>"""
    assert [e["name"] for e in queues.from_xml(standalone, "/opt/wildfly/standalone.xml")] == ["ExpiryQueue", "Orders"]


def test_web_config_app_settings():
    config = b"""<?xml version="1.0"?><configuration><appSettings>
      <add key="Aws.Sqs.QueueUrl" value="https://sqs.us-west-2.amazonaws.com/123456789012/intake"/>
      <add key="Greeting" value="hello"/>
    </appSettings></configuration>"""
    assert _short(queues.from_xml(config, "C:/site/web.config")) == [
        ("sqs", "intake", "https://sqs.us-west-2.amazonaws.com/123456789012/intake", "")]


def test_appsettings_json_is_read_with_dotnet_keys():
    text = b'{"AWS": {"Region": "us-east-1", "SQS": {"QueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/a"}},' \
           b' "Kafka": {"BootstrapServers": "k:9092", "Topics": ["x"]}}'
    assert _short(queues.from_file("/app/appsettings.json", text)) == [
        ("kafka", "", "", "k:9092"), ("sqs", "a", "https://sqs.us-east-1.amazonaws.com/123456789012/a", "")]


def test_yaml_and_properties_files():
    yaml_text = b"spring:\n  rabbitmq:\n    host: rabbit\n    port: 5672\napp:\n  rabbitmq:\n    queue: work\n"
    assert _short(queues.from_file("/app/application.yml", yaml_text)) == [("rabbitmq", "work", "", "amqp://rabbit:5672")]
    assert queues.from_file("/app/notes.txt", b"app.queue.url=https://sqs.us-east-1.amazonaws.com/123456789012/a") == []


def test_command_line_and_environment():
    cmdline = ["java", "-Dapp.queue.url=https://sqs.us-east-1.amazonaws.com/123456789012/cli", "-jar", "w.jar",
               "--spring.kafka.bootstrap-servers=k:9092"]
    assert _short(queues.from_command_line(cmdline)) == [
        ("kafka", "", "", "k:9092"), ("sqs", "cli", "https://sqs.us-east-1.amazonaws.com/123456789012/cli", "")]
    assert queues.from_command_line(cmdline)[0]["foundIn"] == "command line"
    env = queues.from_environment({"ORDERS_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/env",
                                   "PATH": "/usr/bin"})
    assert _short(env) == [("sqs", "env", "https://sqs.us-east-1.amazonaws.com/123456789012/env", "")]


def test_connections_count_only_for_brokers_no_configuration_names():
    seen = queues.from_connections([Connection("10.0.0.5", 61616, 40000), Connection("10.0.0.6", 5672, 40001),
                                    Connection("10.0.0.7", 443, 40002)])
    assert _short(seen) == [("jms", "", "", "tcp://10.0.0.5:61616"), ("rabbitmq", "", "", "amqp://10.0.0.6:5672")]
    configured = queues.from_settings({"spring.activemq.broker-url": "tcp://10.0.0.5:61616"}, "/a.properties")
    merged = queues.merge([configured, seen])
    assert _short(merged) == [("jms", "", "", "tcp://10.0.0.5:61616"), ("rabbitmq", "", "", "amqp://10.0.0.6:5672")]
    assert [e["foundIn"] for e in merged] == ["/a.properties", "established connection"]


def test_merge_keeps_one_entry_per_queue_and_drops_nameless_duplicates():
    one = queues.from_settings({"spring.activemq.broker-url": "tcp://mq:61616"}, "/a.properties")
    two = queues.from_settings({"spring.activemq.broker-url": "tcp://mq:61616", "app.jms.queue": "q"}, "/b.properties")
    assert _short(queues.merge([one, two, two])) == [("jms", "q", "", "tcp://mq:61616")]


def test_hostile_inputs_give_nothing_rather_than_fail():
    bomb = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa">]><r>&a;</r>'
    assert queues.from_xml(bomb, "/x.xml") == []
    assert queues.from_xml(b"<not xml", "/x.xml") == []
    assert queues.from_file("/a.json", b"[" * 100_000) == []
    many = {f"k{i}.queue": "q" for i in range(queues.MAX_KEYS * 2)}
    assert queues.from_settings(many, "/a") == []  # names without a broker are no queue
    huge = {"app.queue.url": "https://sqs.us-east-1.amazonaws.com/123456789012/" + "a" * 5000}
    assert queues.from_settings(huge, "/a") == []
