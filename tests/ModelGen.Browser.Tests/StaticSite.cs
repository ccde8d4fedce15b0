using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Logging;

namespace ModelGen.Browser.Tests;

/// <summary>
/// A plain static file server on 127.0.0.1 (a free port), as any web host would serve the published folder: files by
/// extension, nothing else: no fallback page, no compression negotiation, no Blazor-specific middleware, and unknown
/// extensions refused (404), so a file type the page needs but a server would not know shows as a failed request.
/// The folder is served under a sub-path (<see cref="PathBase"/>), as on a shared host, so a page that assumed the
/// server's root would fail. Every request is logged with its status and length.
/// </summary>
public sealed class StaticSite : IAsyncDisposable
{
    private readonly WebApplication _app;

    private StaticSite(WebApplication app, string root, Uri address)
    {
        _app = app;
        Root = root;
        Address = address;
    }

    /// <summary>The folder served.</summary>
    public string Root { get; }

    /// <summary>The path the folder is served under.</summary>
    public const string PathBase = "/apps/digitpad";

    /// <summary>The site's address, ending in '/'.</summary>
    public Uri Address { get; }

    /// <summary>Every request served so far: path, status and bytes sent.</summary>
    public ConcurrentQueue<(string Path, int Status, long Bytes)> Requests { get; } = new();

    /// <summary>
    /// The MIME types a web server needs for a published Blazor WebAssembly folder (most servers know them; .wasm must be
    /// application/wasm for streaming compilation) and for the page's model file.
    /// </summary>
    public static FileExtensionContentTypeProvider ContentTypes()
    {
        var types = new FileExtensionContentTypeProvider();
        types.Mappings[".wasm"] = "application/wasm";
        types.Mappings[".js"] = "text/javascript";
        types.Mappings[".dat"] = "application/octet-stream";
        types.Mappings[".blat"] = "application/octet-stream";
        types.Mappings[".mgm"] = "application/octet-stream";
        return types;
    }

    public static async Task<StaticSite> StartAsync(string root, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var files = new PhysicalFileProvider(root);
        StaticSite? site = null;
        app.Use(async (context, next) =>
        {
            await next(context);
            site?.Requests.Enqueue((context.Request.Path.Value ?? "", context.Response.StatusCode, context.Response.ContentLength ?? 0));
        });
        app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files, RequestPath = PathBase });
        app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = files, RequestPath = PathBase, ContentTypeProvider = ContentTypes(), ServeUnknownFileTypes = false,
        });
        await app.StartAsync(cancellationToken);
        var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        site = new StaticSite(app, root, new Uri(bound.TrimEnd('/') + PathBase + "/"));
        return site;
    }

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await _app.StopAsync(timeout.Token);
        await _app.DisposeAsync();
    }
}
