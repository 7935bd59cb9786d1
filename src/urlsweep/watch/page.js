(function(){
var body=document.body, tbody=document.getElementById('rows');
var fOutcome=document.getElementById('f-outcome'), fHost=document.getElementById('f-host');
var polls=0;
function params(){var p={};location.hash.replace(/^#/,'').split('&').forEach(function(kv){
 var i=kv.indexOf('=');if(i>0){p[decodeURIComponent(kv.slice(0,i))]=decodeURIComponent(kv.slice(i+1));}});return p;}
function el(tag,text,cls){var x=document.createElement(tag);if(text!==undefined&&text!==null)x.textContent=String(text);if(cls)x.className=cls;return x;}
function pct(v){return v===null||v===undefined?'\u2013':v.toFixed(2)+' %';}
function spark(values){
 var ns='http://www.w3.org/2000/svg', svg=document.createElementNS(ns,'svg');
 svg.setAttribute('width','90');svg.setAttribute('height','18');svg.setAttribute('class','sparkline');
 if(values.length>1){var max=Math.max.apply(null,values)||1,pts=[];
  for(var i=0;i<values.length;i++){pts.push((i*88/(values.length-1)+1).toFixed(1)+','+(17-values[i]*16/max).toFixed(1));}
  var line=document.createElementNS(ns,'polyline');line.setAttribute('points',pts.join(' '));
  line.setAttribute('fill','none');line.setAttribute('stroke','#0969da');line.setAttribute('stroke-width','1.5');svg.appendChild(line);}
 return svg;}
function applyFilter(){
 var p=params(),o=p.outcome||'',h=p.host||'',shown=0;
 fOutcome.value=o; if(h&&!Array.prototype.some.call(fHost.options,function(x){return x.value===h;})){fHost.appendChild(el('option',h)).value=h;}
 fHost.value=h;
 Array.prototype.forEach.call(tbody.rows,function(tr){
  var hide=(o&&tr.getAttribute('data-outcome')!==o)||(h&&tr.getAttribute('data-host')!==h);
  if(hide){tr.setAttribute('hidden','');}else{tr.removeAttribute('hidden');shown++;}});
 body.setAttribute('data-shown',String(shown));}
function setHash(){var parts=[];if(fOutcome.value)parts.push('outcome='+encodeURIComponent(fOutcome.value));
 if(fHost.value)parts.push('host='+encodeURIComponent(fHost.value));
 history.replaceState(null,'',parts.length?'#'+parts.join('&'):location.pathname);applyFilter();}
fOutcome.addEventListener('change',setHash);fHost.addEventListener('change',setHash);
window.addEventListener('hashchange',applyFilter);
function render(d){
 var rows=document.createDocumentFragment(),hosts={},counts={};
 d.urls.forEach(function(u){
  hosts[u.host]=1;counts[u.outcome]=(counts[u.outcome]||0)+1;
  var tr=el('tr');tr.setAttribute('data-outcome',u.outcome);tr.setAttribute('data-host',u.host);
  tr.appendChild(el('td',u.url,'url'));
  var b=el('td');b.appendChild(el('span',u.outcome,'badge '+u.outcome));tr.appendChild(b);
  tr.appendChild(el('td',u.status!==null?u.status:(u.error||'')));
  tr.appendChild(el('td',u.ms,'num'));tr.appendChild(el('td',pct(u.day),'num'));tr.appendChild(el('td',pct(u.week),'num'));
  var s=el('td',null,'spark');s.appendChild(spark(u.spark));tr.appendChild(s);
  tr.appendChild(el('td',u.change?u.change.to+' at '+u.change.at:''));
  rows.appendChild(tr);});
 tbody.replaceChildren(rows);
 var keep=fHost.value;fHost.replaceChildren(el('option','all hosts'));fHost.options[0].value='';
 Object.keys(hosts).sort().forEach(function(h){var x=el('option',h);x.value=h;fHost.appendChild(x);});
 fHost.value=keep;
 var c=document.getElementById('counts');c.replaceChildren();
 Object.keys(counts).sort().forEach(function(k){c.appendChild(el('span',k+' '+counts[k]+' ','count '+k));});
 var hl=document.getElementById('health');hl.textContent=d.health;hl.className=d.healthy?'':'bad';
 document.getElementById('round').textContent=String(d.round);
 document.getElementById('updated').textContent=d.updated;
 var ev=document.getElementById('events');ev.replaceChildren();
 d.events.slice().reverse().forEach(function(x){ev.appendChild(el('li',x.at+'  '+x.url+'  '+(x.from||'new')+' \u2192 '+x.to+(x.status!==null?' ('+x.status+')':x.error?' ('+x.error+')':'')));});
 body.setAttribute('data-round',String(d.round));
 applyFilter();}
function poll(){
 fetch('/api/status',{cache:'no-store'}).then(function(r){return r.json();}).then(function(d){
  render(d);polls++;body.setAttribute('data-polls',String(polls));body.removeAttribute('data-offline');
 }).catch(function(){body.setAttribute('data-offline','1');}).then(function(){setTimeout(poll,POLL);});}
applyFilter();body.setAttribute('data-ready','1');poll();
})();
