// Orders: the order-taking service, shaped like an ASP.NET Core web API (the same settings
// files, keys and precedence, the same console log lines) but serving HTTP with TcpListener, so
// that it runs on the bare Microsoft.NETCore.App 3.1 runtime (no ASP.NET Core, no libssl).
//
// Configuration, lowest precedence first, from the content root (the working directory):
//   appsettings.json, appsettings.{Environment}.json, environment variables (Section__Key),
//   command-line arguments (--Section:Key=value).
// The environment is ASPNETCORE_ENVIRONMENT, then DOTNET_ENVIRONMENT, else Production.
// Where it listens: the Kestrel:Endpoints:*:Url entries if any (they win, as in Kestrel), else
// --urls / ASPNETCORE_URLS / DOTNET_URLS, else http://localhost:5000.
using System;
using System.Collections.Generic;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Threading;

namespace Acme.Orders
{
    public static class Program
    {
        const string Version = "2.3.0";
        static readonly object ConsoleLock = new object();
        static Dictionary<string, string> config;

        public static int Main(string[] args)
        {
            string contentRoot = Directory.GetCurrentDirectory();
            string environment = Env("ASPNETCORE_ENVIRONMENT") ?? Env("DOTNET_ENVIRONMENT") ?? "Production";
            config = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            Load(config, Path.Combine(contentRoot, "appsettings.json"));
            Load(config, Path.Combine(contentRoot, "appsettings." + environment + ".json"));
            foreach (System.Collections.DictionaryEntry variable in Environment.GetEnvironmentVariables())
            {
                string name = (string)variable.Key;
                if (!name.StartsWith("ASPNETCORE_", StringComparison.OrdinalIgnoreCase)
                    && !name.StartsWith("DOTNET_", StringComparison.OrdinalIgnoreCase))
                    config[name.Replace("__", ":")] = (string)variable.Value;
            }
            Arguments(config, args);

            string urls = KestrelUrls(config);
            string fallback = Value(config, "urls") ?? Env("ASPNETCORE_URLS") ?? Env("DOTNET_URLS") ?? "http://localhost:5000";
            if (urls != null && Value(config, "urls") != null)
                Log("warn", "Microsoft.AspNetCore.Server.Kestrel", 0, "Overriding address(es) '" + Value(config, "urls")
                    + "'. Binding to endpoints defined via IConfiguration and/or UseKestrel() instead.");
            urls = urls ?? fallback;
            // Needed to answer orders; never printed.
            bool hasDatabase = !string.IsNullOrEmpty(Value(config, "ConnectionStrings:OrdersDb"));

            var listeners = new List<TcpListener>();
            foreach (string url in urls.Split(new[] { ';' }, StringSplitOptions.RemoveEmptyEntries))
            {
                var listener = new TcpListener(Address(url.Trim()), Port(url.Trim()));
                listener.Start();
                listeners.Add(listener);
                Log("info", "Microsoft.Hosting.Lifetime", 14, "Now listening on: " + url.Trim());
            }
            AppDomain.CurrentDomain.ProcessExit += (sender, e) =>
                Log("info", "Microsoft.Hosting.Lifetime", 0, "Application is shutting down...");
            Log("info", "Microsoft.Hosting.Lifetime", 0, "Application started. Press Ctrl+C to shut down.");
            Log("info", "Microsoft.Hosting.Lifetime", 0, "Hosting environment: " + environment);
            Log("info", "Microsoft.Hosting.Lifetime", 0, "Content root path: " + contentRoot);
            Log("info", "Acme.Orders.Startup", 0, "Orders " + Version + " ready (order database "
                + (hasDatabase ? "configured" : "not configured") + ")");

            var threads = new List<Thread>();
            foreach (var listener in listeners)
            {
                var current = listener;
                var thread = new Thread(() => Serve(current)) { IsBackground = true, Name = "Kestrel" };
                thread.Start();
                threads.Add(thread);
            }
            foreach (var thread in threads)
                thread.Join();
            return 0;
        }

        static void Serve(TcpListener listener)
        {
            while (true)
            {
                TcpClient client = listener.AcceptTcpClient();
                ThreadPool.QueueUserWorkItem(_ => Answer(client));
            }
        }

        static void Answer(TcpClient client)
        {
            try
            {
                using (client)
                using (NetworkStream stream = client.GetStream())
                {
                    stream.ReadTimeout = 5000;
                    var request = new StringBuilder();
                    var buffer = new byte[4096];
                    while (request.Length < 16384 && !request.ToString().Contains("\r\n\r\n"))
                    {
                        int read = stream.Read(buffer, 0, buffer.Length);
                        if (read <= 0)
                            break;
                        request.Append(Encoding.ASCII.GetString(buffer, 0, read));
                    }
                    string[] first = request.ToString().Split('\n')[0].Trim().Split(' ');
                    string method = first[0];
                    string path = first.Length > 1 ? first[1].Split('?')[0] : "/";
                    int status;
                    string type = "text/plain; charset=utf-8", text = "";
                    if (path == "/" || path == "/health" || path == "/api/orders")
                    {
                        if (method != "GET" && method != "HEAD")
                            status = 405;
                        else
                        {
                            status = 200;
                            if (path == "/")
                                text = "Acme Orders API " + Version + "\n";
                            else if (path == "/health")
                                text = "Healthy";
                            else
                            {
                                type = "application/json; charset=utf-8";
                                text = "[{\"id\":5001,\"customer\":\"ACC-1001\",\"total\":129.90,\"status\":\"Shipped\"},"
                                       + "{\"id\":5002,\"customer\":\"ACC-1003\",\"total\":18.50,\"status\":\"Pending\"}]";
                            }
                        }
                    }
                    else
                        status = 404;
                    byte[] body = Encoding.UTF8.GetBytes(text);
                    string head = "HTTP/1.1 " + status + " " + Reason(status) + "\r\nDate: " + DateTime.UtcNow.ToString("R")
                                  + "\r\nServer: Kestrel\r\nContent-Length: " + body.Length
                                  + (body.Length > 0 ? "\r\nContent-Type: " + type : "") + "\r\nConnection: close\r\n\r\n";
                    byte[] headBytes = Encoding.ASCII.GetBytes(head);
                    stream.Write(headBytes, 0, headBytes.Length);
                    if (method != "HEAD")
                        stream.Write(body, 0, body.Length);
                    if (Enabled("Microsoft.AspNetCore.Hosting.Diagnostics", "Information"))
                        Log("info", "Microsoft.AspNetCore.Hosting.Diagnostics", 2, "Request finished HTTP/1.1 " + method
                            + " " + path + " - " + status);
                }
            }
            catch (Exception error)
            {
                Log("fail", "Microsoft.AspNetCore.Server.Kestrel", 13, "Connection error: " + error.Message);
            }
        }

        static string Reason(int status)
        {
            return status == 200 ? "OK" : status == 404 ? "Not Found" : "Method Not Allowed";
        }

        // The console logger's format: "info: Category[EventId]" then the message, indented.
        static void Log(string level, string category, int eventId, string message)
        {
            lock (ConsoleLock)
            {
                Console.Out.WriteLine(level + ": " + category + "[" + eventId + "]\n      " + message);
                Console.Out.Flush();
            }
        }

        static readonly string[] Levels = { "Trace", "Debug", "Information", "Warning", "Error", "Critical", "None" };

        // Logging:LogLevel, the longest matching category prefix winning, as in Microsoft.Extensions.Logging.
        static bool Enabled(string category, string level)
        {
            string best = Value(config, "Logging:LogLevel:Default") ?? "Information";
            int bestLength = -1;
            foreach (var pair in config)
            {
                const string prefix = "Logging:LogLevel:";
                if (!pair.Key.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
                    continue;
                string name = pair.Key.Substring(prefix.Length);
                if (name != "Default" && category.StartsWith(name, StringComparison.OrdinalIgnoreCase) && name.Length > bestLength)
                {
                    best = pair.Value;
                    bestLength = name.Length;
                }
            }
            return Array.IndexOf(Levels, level) >= Math.Max(0, Array.IndexOf(Levels, best));
        }

        static string Env(string name)
        {
            string value = Environment.GetEnvironmentVariable(name);
            return string.IsNullOrEmpty(value) ? null : value;
        }

        // --Key=Value, --Key Value, /Key=Value (the last one wins).
        static void Arguments(Dictionary<string, string> config, string[] args)
        {
            for (int i = 0; i < args.Length; i++)
            {
                string arg = args[i];
                string key = arg.StartsWith("--") ? arg.Substring(2) : arg.StartsWith("/") ? arg.Substring(1) : null;
                if (key == null)
                    continue;
                int equals = key.IndexOf('=');
                if (equals >= 0)
                    config[key.Substring(0, equals)] = key.Substring(equals + 1);
                else if (i + 1 < args.Length)
                    config[key] = args[++i];
            }
        }

        static void Load(Dictionary<string, string> config, string path)
        {
            if (!File.Exists(path))
                return;
            var options = new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };
            using (JsonDocument document = JsonDocument.Parse(File.ReadAllText(path), options))
                Flatten(config, "", document.RootElement);
        }

        static void Flatten(Dictionary<string, string> config, string prefix, JsonElement element)
        {
            switch (element.ValueKind)
            {
                case JsonValueKind.Object:
                    foreach (JsonProperty property in element.EnumerateObject())
                        Flatten(config, prefix.Length == 0 ? property.Name : prefix + ":" + property.Name, property.Value);
                    break;
                case JsonValueKind.Array:
                    int index = 0;
                    foreach (JsonElement item in element.EnumerateArray())
                        Flatten(config, prefix + ":" + (index++), item);
                    break;
                case JsonValueKind.String:
                    config[prefix] = element.GetString();
                    break;
                case JsonValueKind.Null:
                    config[prefix] = "";
                    break;
                default:
                    config[prefix] = element.GetRawText();
                    break;
            }
        }

        static string Value(Dictionary<string, string> config, string key)
        {
            string value;
            return config.TryGetValue(key, out value) && value.Length > 0 ? value : null;
        }

        static string KestrelUrls(Dictionary<string, string> config)
        {
            var urls = new List<string>();
            foreach (var pair in config)
            {
                string[] parts = pair.Key.Split(':');
                if (parts.Length == 4 && string.Equals(parts[0], "Kestrel", StringComparison.OrdinalIgnoreCase)
                    && string.Equals(parts[1], "Endpoints", StringComparison.OrdinalIgnoreCase)
                    && string.Equals(parts[3], "Url", StringComparison.OrdinalIgnoreCase) && pair.Value.Length > 0)
                    urls.Add(pair.Value);
            }
            return urls.Count > 0 ? string.Join(";", urls) : null;
        }

        static string Authority(string url)
        {
            string rest = url.Substring(url.IndexOf("://", StringComparison.Ordinal) + 3);
            int slash = rest.IndexOf('/');
            return slash >= 0 ? rest.Substring(0, slash) : rest;
        }

        static int Port(string url)
        {
            string authority = Authority(url);
            int colon = authority.LastIndexOf(':');
            if (colon > authority.LastIndexOf(']'))
                return int.Parse(authority.Substring(colon + 1));
            return url.StartsWith("https", StringComparison.OrdinalIgnoreCase) ? 443 : 80;
        }

        static IPAddress Address(string url)
        {
            string authority = Authority(url);
            int colon = authority.LastIndexOf(':');
            string host = (colon > authority.LastIndexOf(']') ? authority.Substring(0, colon) : authority).Trim('[', ']');
            if (host == "+" || host == "*" || host == "0.0.0.0" || host == "::" || host.Length == 0)
                return IPAddress.Any;
            if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase))
                return IPAddress.Loopback;
            return IPAddress.Parse(host);
        }
    }
}
